"""Publishing: an offer is created with its preview, and a file offer gets its file (checked,
stored as Parquet, described) before it appears in the catalogue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.errors import Conflict
from sandan.core.identity.principal import Principal
from sandan.core.tenancy import ensure_writable
from sandan.sharing.models import Negotiation, Offer
from sandan.sharing.schemas import OfferIn
from sandan.sharing.service import data, files, offers, previews


def publish(session: Session, principal: Principal, body: OfferIn, source: data.Source) -> Offer:
    """Publish an offer with a preview of its data (a file offer waits for its file)."""
    offer = offers.create_offer(session, principal, body)
    if offer.kind != "file":
        offer.preview = previews.preview(session, source, offer)
    return offer


def _check_replaceable(session: Session, offer: Offer) -> None:
    if offer.kind != "file":
        raise Conflict(f"offer {offer.id} is a {offer.kind} offer; only a file offer takes a file")
    if offer.status == "withdrawn":
        raise Conflict(f"offer {offer.id} was withdrawn")
    asked = session.scalar(select(Negotiation.id).where(Negotiation.offer_id == offer.id).limit(1))
    if asked is not None:
        raise Conflict(
            f"offer {offer.id} is already being negotiated; its file stays as agreed. "
            "Publish a new offer for new data"
        )


def upload(
    session: Session,
    principal: Principal,
    offer_id: int,
    filename: str,
    content: bytes,
    source: data.Source,
) -> Offer:
    """Attach a CSV or Parquet file to the caller's file offer and publish it: the file is
    read and checked (422 naming `file`), kept as Parquet, and the offer's schema, temporal
    coverage, size, checksum and preview come from it. Once anyone asked for the offer its
    file can no longer change (409)."""
    offer = offers.get_offer(session, principal, offer_id)
    ensure_writable(principal, offer.company_id, "offers")
    _check_replaceable(session, offer)
    parsed = files.parse(filename, content, source.plant_tz)
    digest = files.sha256(content)
    path, stored = files.store(source.files_dir, offer.company_id, parsed.table, digest)
    span = files.coverage(parsed, source.plant_tz)
    schema = files.schema_of(parsed.table)
    selection: dict[str, Any] = {
        "type": "file",
        "format": parsed.format,
        "filename": filename[:200],
        "rows": parsed.table.num_rows,
        "bytes": len(content),
        "sha256": digest,
        "time_column": parsed.time_column,
        "time_zone": source.plant_tz,
        "resolution": span.resolution,
    }
    if offer.selection.get("preview") is False:
        selection["preview"] = False
    files.keep(
        session,
        offer,
        filename,
        {"path": path, "stored_bytes": stored, **selection, "schema": schema},
    )
    offer.selection, offer.data_schema = selection, schema
    if span.start is not None:
        offer.temporal_start, offer.temporal_end = span.start, span.end
    offer.status, offer.updated_at = "published", utcnow()
    session.flush()
    offer.preview = previews.preview(session, source, offer)
    session.flush()
    return offer
