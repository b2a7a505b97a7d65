"""Material files: what is accepted on upload, under which name, and how a file goes
back out (to its uploader, or to a reviewer of a department deciding the case).

A file is kept under its generated id only. The name a client sends is a display name
at most: its last path segment, without control characters, length-limited — it never
names anything on disk, and ``../../etc/passwd`` is kept as ``passwd``.
"""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Response
from sqlalchemy.ext.asyncio import AsyncSession

from intake.models import Case, Upload
from yiwang_platform.errors import ProblemError

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_NAME_CHARS = 100
DEFAULT_NAME = "material"
# Accepted types and how their files begin: a file must be what it says it is, since
# reviewers' browsers open it.
SIGNATURES = {
    "application/pdf": b"%PDF-",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "application/ofd": b"PK\x03\x04",  # OFD (GB/T 33190) is a ZIP package
}
ACCEPTED_TYPES = frozenset(SIGNATURES)
# For the routes' ``responses=``: the content types a download can answer.
DOWNLOAD_CONTENT: dict[str, Any] = {
    media: {"schema": {"type": "string", "format": "binary"}} for media in sorted(SIGNATURES)
}


def display_name(raw: str) -> str:
    """The name to show for an upload: percent-encoded UTF-8 decoded (HTTP headers carry
    only Latin-1), the last path segment, no control or format characters, at most
    ``MAX_NAME_CHARS`` characters keeping a short extension."""
    name = unquote(raw, errors="replace").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().strip(".").strip()
    if len(name) > MAX_NAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: MAX_NAME_CHARS - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_NAME_CHARS]
    return name or DEFAULT_NAME


def checked(content_type: str, content: bytes) -> str:
    """The media type of an acceptable file; 415 or 413/422 otherwise."""
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in ACCEPTED_TYPES:
        raise ProblemError(
            415,
            "unsupported_media_type",
            "不支持的文件类型",
            detail=f"accepted: {', '.join(sorted(ACCEPTED_TYPES))}",
            title_en="Unsupported file type",
        )
    if not content or len(content) > MAX_UPLOAD_BYTES:
        raise ProblemError(
            413 if content else 422,
            "upload_size",
            "文件为空或超过 5 MB",
            title_en="File empty or larger than 5 MB",
        )
    if not content.startswith(SIGNATURES[media_type]):
        raise ProblemError(
            415,
            "content_type_mismatch",
            "文件内容与声明的类型不符",
            detail=f"the file is not a {media_type} file",
            title_en="File content does not match its type",
        )
    return media_type


async def store(
    session: AsyncSession,
    owner_index: str,
    *,
    name: str,
    content_type: str,
    content: bytes,
    now: datetime,
) -> Upload:
    upload = Upload(
        id=str(uuid.uuid4()),
        owner_index=owner_index,
        name=display_name(name),
        content_type=checked(content_type, content),
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_at=now,
    )
    session.add(upload)
    await session.flush()
    return upload


def _not_found() -> ProblemError:
    return ProblemError(404, "upload_not_found", "材料文件不存在", title_en="Upload not found")


async def own_upload(session: AsyncSession, upload_id: str, *, owner_index: str) -> Upload:
    """An upload of ``owner_index``; another's is as absent as one that never existed."""
    upload = await session.get(Upload, upload_id)
    if upload is None or upload.owner_index != owner_index:
        raise _not_found()
    return upload


async def case_upload(session: AsyncSession, case: Case, *, upload_id: str) -> tuple[str, Upload]:
    """(material code, upload) of a file attached to ``case``."""
    code = next(
        (m["code"] for m in case.materials if m["kind"] == "upload" and m["ref"] == upload_id),
        None,
    )
    upload = await session.get(Upload, upload_id) if code else None
    if code is None or upload is None:
        raise _not_found()
    return code, upload


def download(upload: Upload) -> Response:
    """The file as stored, as an attachment the browser must not reinterpret."""
    ascii_name = upload.name.encode("ascii", "replace").decode().replace('"', "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(upload.name)}"
    return Response(
        content=upload.content,
        media_type=upload.content_type,
        headers={
            "content-disposition": disposition,
            "x-content-type-options": "nosniff",
            "cache-control": "private, no-store",
            "etag": f'"{upload.sha256}"',
        },
    )
