"""/api/v1/intake/uploads: material files, owned by whoever uploads them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response

from intake import materials
from intake.schemas import UploadRead, upload_read
from yiwang_platform.deps import CipherDep, NowDep, PrincipalDep, SessionDep

router = APIRouter(prefix="/api/v1/intake/uploads", tags=["uploads"])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


@router.post(
    "",
    status_code=201,
    response_model=UploadRead,
    summary="Upload one material file (PDF, OFD, JPEG or PNG, at most 5 MB; the body is the file)",
    responses={
        413: {"description": "larger than 5 MB", **PROBLEM},
        415: {"description": "not an accepted type, or content not of its type", **PROBLEM},
        422: {"description": "empty file", **PROBLEM},
    },
)
async def upload_material(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    now: NowDep,
    content_type: Annotated[str, Header()] = "application/octet-stream",
    x_file_name: Annotated[
        str,
        Header(
            max_length=1000,
            description="display name, percent-encoded UTF-8; only its last path segment "
            "is kept, without control characters, at most 100 characters",
        ),
    ] = materials.DEFAULT_NAME,
) -> UploadRead:
    # The body is the file itself, not JSON.
    content = await request.body()
    async with session.begin():
        upload = await materials.store(
            session,
            cipher.blind_index(principal.subject),
            name=x_file_name,
            content_type=content_type,
            content=content,
            now=now,
        )
    return upload_read(upload)


@router.get(
    "/{upload_id}/content",
    summary="Download one's own uploaded file, as stored",
    response_class=Response,
    responses={
        200: {"description": "the file, as an attachment", "content": materials.DOWNLOAD_CONTENT},
        404: {"description": "no such upload of the caller's", **PROBLEM},
    },
)
async def download_own(
    upload_id: str, session: SessionDep, principal: PrincipalDep, cipher: CipherDep
) -> Response:
    upload = await materials.own_upload(
        session, upload_id, owner_index=cipher.blind_index(principal.subject)
    )
    return materials.download(upload)
