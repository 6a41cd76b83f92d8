"""HTTP route of file offers: the upload that gives a file offer its data and publishes it.
Pulls of a file offer go through the agreements' data route like every other offer."""

from __future__ import annotations

from fastapi import APIRouter, Request, UploadFile

from sandan.core.http import DbSession, SharingWrite, get_context
from sandan.core.types import IdPath
from sandan.sharing.schemas import OfferOut
from sandan.sharing.service import files, offers, publishing
from sandan.telemetry.deps import Store

router = APIRouter(prefix="/api/v1/sharing", tags=["sharing"])


@router.post("/offers/{offer_id}/file", response_model=OfferOut)
def upload_file(
    offer_id: IdPath,
    file: UploadFile,
    request: Request,
    principal: SharingWrite,
    session: DbSession,
    store: Store,
) -> OfferOut:
    """Upload the CSV or Parquet file of your file offer (at most 50 MB) and publish it. A bad
    file is refused with 422 naming `file` and why; once the offer is asked for, its file
    can no longer be replaced (409)."""
    content = file.file.read(files.MAX_UPLOAD_BYTES + 1)  # one byte more tells "too large"
    source = files.source(get_context(request).settings, store)
    offer = publishing.upload(
        session, principal, offer_id, file.filename or "upload", content, source
    )
    name = offers.providers(session, [offer]).get(offer.company_id, "")
    return OfferOut.model_validate(offer).model_copy(update={"provider": name})
