"""/api/v1/intake/uploads: material files, owned by whoever uploads them."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request

from intake.api.dependencies import CipherDep
from intake.models import Upload
from intake.schemas import UploadRead
from yiwang_platform.errors import ProblemError
from yiwang_platform.service import PrincipalDep, SessionDep

router = APIRouter(prefix="/api/v1/intake/uploads", tags=["uploads"])

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
ACCEPTED_TYPES = {"application/pdf", "image/jpeg", "image/png", "application/ofd"}


@router.post(
    "",
    status_code=201,
    response_model=UploadRead,
    summary="Upload one material file (PDF, OFD, JPEG or PNG; the body is the file)",
    responses={415: {"description": "Not a PDF, OFD, JPEG or PNG"}},
)
async def upload_material(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    content_type: Annotated[str, Header()] = "application/octet-stream",
    x_file_name: Annotated[str, Header(max_length=200)] = "material",
) -> UploadRead:
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in ACCEPTED_TYPES:
        raise ProblemError(
            415,
            "unsupported_media_type",
            "不支持的文件类型",
            detail=f"accepted: {', '.join(sorted(ACCEPTED_TYPES))}",
            title_en="Unsupported file type",
        )
    content = await request.body()
    if not content or len(content) > MAX_UPLOAD_BYTES:
        raise ProblemError(
            413 if content else 422,
            "upload_size",
            "文件为空或超过 5 MB",
            title_en="File empty or larger than 5 MB",
        )
    upload = Upload(
        id=str(uuid.uuid4()),
        owner_index=cipher.blind_index(principal.subject),
        name=x_file_name,
        content_type=media_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_at=datetime.now(UTC),
    )
    async with session.begin():
        session.add(upload)
    return UploadRead(
        upload_id=upload.id,
        name=upload.name,
        content_type=upload.content_type,
        size=upload.size,
        sha256=upload.sha256,
    )
