"""The company's agreements, as provider and as consumer: their status and expiry, what has
been used of them, whether both Ed25519 signatures still verify against the signed document,
the consumer's endpoint and token (shown once), and termination."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from nicegui import ui
from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.core.clock import as_utc, utcnow
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.sharing import policy as odrl
from sandan.sharing import signing
from sandan.sharing.models import Agreement, Offer
from sandan.sharing.service import access
from sandan.sharing.service.parties import public_key
from sandan.web.sharing_terms import Terms
from sandan.web.sharing_ui import (
    act,
    can_write,
    card_head,
    company_names,
    lang_of,
    listing,
    local_time,
    note_button,
    offer_titles,
    price_text,
    sharing_page,
    show_terms,
    terms_lines,
)
from sandan.web.shell import PageContext


@dataclass(frozen=True)
class Deal:
    """An agreement as one party sees it, with its signatures checked."""

    id: int
    uid: str
    title: str
    role: str | None  # provider | consumer; None for the complex's staff
    counterpart: str
    purpose: str
    status: str  # active | expired | terminated | agreed
    signed_at: datetime
    expires_at: datetime | None
    termination_reason: str
    pulls: int
    max_pulls: int | None
    rows: int
    price_model: str
    price_krw: int
    terms: list[str]
    provider_valid: bool
    consumer_valid: bool
    digest: str
    live: bool


def signature_valid(session: Session, document: dict[str, Any], sig: dict[str, Any] | None) -> bool:
    """Whether a stored signature is one of the named key over exactly this document; a
    missing signature or an unknown key is not valid."""
    if not sig:
        return False
    key = public_key(session, str(sig.get("key_id", "")))
    if key is None:
        return False
    try:
        signing.ensure_valid(document, signing.Signature.model_validate(sig), key)
    except signing.SignatureInvalid:
        return False
    return True


def _status(a: Agreement) -> str:
    if a.status == "active" and a.expires_at is not None and as_utc(a.expires_at) <= utcnow():
        return "expired"
    return a.status


def _live_offers(session: Session, offer_ids: list[int]) -> set[int]:
    """The offers that also stream: a token for their agreements opens a live stream too."""
    rows = session.execute(select(Offer.id, Offer.selection).where(Offer.id.in_(offer_ids)))
    return {offer_id for offer_id, selection in rows if selection.get("live")}


def _role(a: Agreement, own: int | None) -> str | None:
    if own is not None and a.provider_company_id == own:
        return "provider"
    if own is not None and a.consumer_company_id == own:
        return "consumer"
    return None


def _deals(session: Session, principal: Principal, role: str, lang: odrl.Lang) -> list[Deal]:
    found = access.list_agreements(session, principal, role or None)
    offer_ids = [a.offer_id for a in found]
    titles, live = offer_titles(session, offer_ids), _live_offers(session, offer_ids)
    names = company_names(
        session, [c for a in found for c in (a.provider_company_id, a.consumer_company_id)]
    )
    deals = []
    for a in found:
        mine = _role(a, principal.company_id)
        other = a.consumer_company_id if mine == "provider" else a.provider_company_id
        deals.append(
            Deal(
                id=a.id,
                uid=a.uid,
                title=titles.get(a.offer_id, f"#{a.offer_id}"),
                role=mine,
                counterpart=names.get(other or 0, a.consumer_participant),
                purpose=a.purpose,
                status=_status(a),
                signed_at=a.signed_at,
                expires_at=a.expires_at,
                termination_reason=a.termination_reason,
                pulls=a.pulls,
                max_pulls=Terms.of(odrl.parse_policy(a.policy)).max_pulls,
                rows=a.rows,
                price_model=a.price_model,
                price_krw=a.price_krw,
                terms=terms_lines(session, a.policy, lang),
                provider_valid=signature_valid(session, a.document, a.provider_signature),
                consumer_valid=signature_valid(session, a.document, a.consumer_signature),
                digest=signing.digest(a.document),
                live=a.offer_id in live,
            )
        )
    return deals


class Agreements:
    """The list, its filter, and the token and termination dialogs."""

    def __init__(self, page: PageContext, base_url: str) -> None:
        self.page, self.base_url = page, base_url
        t = page.t
        roles = {
            "": t("sharing_all"),
            "provider": t("sharing_as_provider"),
            "consumer": t("sharing_as_consumer"),
        }
        self.role = ui.toggle(roles, value="").props('id="agreements-role" no-caps')
        self.role.on_value_change(lambda _: self.show.refresh())
        self.show()

    @ui.refreshable_method
    def show(self) -> None:
        page, role = self.page, str(self.role.value or "")
        deals = act(page, lambda s, p: _deals(s, p, role, lang_of(page)))
        for deal in listing(page, deals, "sharing_no_agreements", "agreements"):
            self._deal(deal)

    def _deal(self, d: Deal) -> None:
        page = self.page
        with ui.card().classes("w-full max-w-5xl agreement").props(f'id="agreement-{d.id}"'):
            card_head(
                page,
                d.title,
                (d.status, f"agreement-{d.id}-status"),
                price_text(page, d.price_model, d.price_krw),
                (d.role, d.counterpart, d.purpose),
            )
            with ui.row().classes("w-full gap-6 items-start no-wrap"):
                with ui.column().classes("w-1/2 gap-1"):
                    self._facts(d)
                with ui.column().classes("w-1/2"):
                    show_terms(d.terms)
            self._buttons(d)

    def _facts(self, d: Deal) -> None:
        page, t = self.page, self.page.t
        ui.label(f"{t('sharing_signed_at')}: {local_time(page.ctx, d.signed_at)}")
        ui.label(f"{t('sharing_expires_at')}: {local_time(page.ctx, d.expires_at)}")
        limit = f" / {d.max_pulls:,}" if d.max_pulls else ""
        ui.label(
            f"{t('sharing_pulls_used')}: {d.pulls:,}{limit} · {t('sharing_rows_used')}: {d.rows:,}"
        ).props(f'id="agreement-{d.id}-usage"')
        if d.status == "terminated":
            ui.label(f"{t('sharing_terminated_why')}: {d.termination_reason}").classes("text-sm")
        with ui.column().classes("gap-0 text-sm").props(f'id="agreement-{d.id}-signatures"'):
            for side, valid in (("provider", d.provider_valid), ("consumer", d.consumer_valid)):
                mark = "✓" if valid else "✗"
                word = t("sharing_signature_valid" if valid else "sharing_signature_invalid")
                ui.label(f"{mark} {t('sharing_signature_' + side)}: {word}").classes(
                    "text-green-700" if valid else "text-red-700"
                )
            ui.label(f"SHA-256 {d.digest[:16]}…").classes("text-xs text-slate-500 font-mono")

    def _buttons(self, d: Deal) -> None:
        page, t = self.page, self.page.t
        if not can_write(page) or d.role is None:
            return
        with ui.row().classes("gap-2"):
            if d.role == "consumer" and d.status == "active":
                ui.button(t("sharing_get_token"), on_click=lambda: self._token(d)).props(
                    "no-caps"
                ).classes("agreement-token")
            if d.status != "terminated":
                note_button(
                    page,
                    "sharing_terminate",
                    [],
                    lambda note: self._terminate(d, note),
                    "flat color=negative",
                ).classes("agreement-terminate")

    def _terminate(self, d: Deal, note: str) -> bool:
        if act(self.page, lambda s, p: access.terminate_agreement(s, p, d.id, note).status) is None:
            return False
        ui.notify(self.page.t("sharing_state_terminated"), type="positive")
        self.show.refresh()
        return True

    def _token(self, d: Deal) -> None:
        """The Endpoint Data Reference: shown once, since only its hash is kept."""
        issued = act(self.page, lambda s, p: access.issue_token(s, p, d.id))
        if issued is None:
            return
        t = self.page.t
        base = f"{self.base_url}/api/v1/sharing/agreements/{d.id}"
        with ui.dialog() as dialog, ui.card().classes("w-[44rem]").props('id="token-dialog"'):
            ui.label(t("sharing_token_title")).classes("text-lg font-semibold")
            ui.label(t("sharing_token_once")).classes("text-sm text-amber-800")
            for label, value in (
                (t("sharing_endpoint"), f"{base}/data"),
                *([(t("sharing_stream_endpoint"), f"{base}/stream")] if d.live else []),
                (t("sharing_access_token"), issued.access_token),
                (t("sharing_refresh_token"), issued.refresh_token),
            ):
                ui.input(label, value=value).props("readonly dense").classes("w-full font-mono")
            minutes = issued.expires_in // 60
            ui.label(f"{t('sharing_token_expires')}: {minutes} min").classes("text-sm")
            example = (
                f'curl -H "Authorization: Bearer {issued.access_token}" '
                f'"{base}/data?purpose={d.purpose}&start=…&end=…"'
            )
            ui.code(example, language="bash").classes("w-full text-xs")
            ui.button(t("sharing_close"), on_click=dialog.close).props("no-caps")
        dialog.open()


def register(ctx: Context) -> None:
    @sharing_page(ctx, "/sharing/agreements", "sharing_agreements")
    def agreements_page(page: PageContext, request: Request) -> None:
        Agreements(page, str(request.base_url).rstrip("/"))
