"""Routes of stock: levels by owner, the ledger, adjustments, counts, reconciliation and
monthly bills."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from sandan.core.http import DbSession
from sandan.core.types import IdPath
from sandan.logistics import documents
from sandan.logistics.routes.deps import Operator, Reader
from sandan.logistics.schemas import AdjustIn, MovementOut, QuantOut, ReconcileOut
from sandan.logistics.schemas_out import (
    CountIn,
    CountOut,
    CountSubmit,
    InvoiceOut,
    TariffIn,
    TariffOut,
)
from sandan.logistics.service import billing, inventory
from sandan.logistics.service.ledger import reconcile

router = APIRouter()
Period = Annotated[str, Path(pattern=r"^\d{4}-\d{2}$")]


@router.get("/stock")
def stock(
    session: DbSession,
    principal: Reader,
    owner_company_id: int | None = None,
    item_id: int | None = None,
) -> list[QuantOut]:
    """Stock by owner, item, lot and bin (a tenant sees only its own)."""
    return inventory.stock(session, principal, owner_company_id, item_id)


@router.get("/movements")
def movements(
    session: DbSession, principal: Reader, owner_company_id: int | None = None
) -> list[MovementOut]:
    """The newest movements of the ledger (a tenant sees only its own)."""
    rows = inventory.movements(session, principal, owner_company_id)
    return [MovementOut.model_validate(m) for m in rows]


@router.post("/adjustments", status_code=201)
def adjust(body: AdjustIn, session: DbSession, principal: Operator) -> dict[str, int | None]:
    """Correct a quant with a reason, through the ledger."""
    return {"movement_id": inventory.adjust(session, principal, body)}


@router.post("/counts", status_code=201)
def create_count(body: CountIn, session: DbSession, principal: Operator) -> CountOut:
    """Start a cycle count of some bins."""
    return CountOut.model_validate(inventory.create_count(session, principal, body))


@router.get("/counts/{count_id}")
def count_sheet(count_id: IdPath, session: DbSession, principal: Operator) -> list[QuantOut]:
    """What the system expects in the counted bins."""
    return inventory.count_sheet(session, principal, count_id)


@router.post("/counts/{count_id}/submit")
def submit_count(
    count_id: IdPath, body: CountSubmit, session: DbSession, principal: Operator
) -> CountOut:
    """Submit the counted quantities; differences are posted as count movements."""
    task, made = inventory.submit_count(session, principal, count_id, body.lines)
    return CountOut.model_validate(task).model_copy(update={"adjustments": made})


@router.get("/reconcile")
def reconcile_stock(session: DbSession, principal: Operator) -> ReconcileOut:
    """Recompute every stock level from the ledger and compare with the quants."""
    report = reconcile(session)
    return ReconcileOut(
        ok=report.ok,
        quants=report.quants,
        movements=report.movements,
        mismatches=report.mismatches,
    )


@router.put("/tariffs")
def set_tariff(body: TariffIn, session: DbSession, principal: Operator) -> TariffOut:
    """Set the default tariff or one tenant's."""
    return TariffOut.model_validate(billing.set_tariff(session, principal, body))


@router.get("/invoices/{company_id}/{period}")
def get_invoice(
    company_id: IdPath, period: Period, session: DbSession, principal: Reader
) -> InvoiceOut:
    """A tenant's bill for a month (to date): storage from the stock history, handling."""
    return billing.invoice(session, principal, company_id, period)


def _download(body: str | bytes, media_type: str, name: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/invoices/{company_id}/{period}/csv")
def invoice_csv(
    company_id: IdPath, period: Period, session: DbSession, principal: Reader
) -> Response:
    """The bill as CSV."""
    inv = billing.invoice(session, principal, company_id, period)
    return _download(documents.invoice_csv(inv), "text/csv", f"invoice-{company_id}-{period}.csv")


@router.get("/invoices/{company_id}/{period}/pdf")
def invoice_pdf(
    company_id: IdPath, period: Period, session: DbSession, principal: Reader
) -> Response:
    """The bill as PDF."""
    inv = billing.invoice(session, principal, company_id, period)
    pdf = documents.invoice_pdf(inv)
    return _download(pdf, "application/pdf", f"invoice-{company_id}-{period}.pdf")
