"""The data-sharing pages: the catalogue of offers the viewer's company may see, where it asks
for one for a purpose. The other pages (publish, inbox, agreements, usage and statements)
live in `sharing_*.py` and are registered from here, so pages.py names the area once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from nicegui import ui
from sqlalchemy.orm import Session

from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.sharing import policy as odrl
from sandan.sharing.models import Offer
from sandan.sharing.schemas import NegotiationRequest
from sandan.sharing.service import negotiations, offers
from sandan.telemetry.store import TelemetryStore
from sandan.web import sharing_agreements, sharing_ledger, sharing_negotiations, sharing_publish
from sandan.web.sharing_terms import Terms
from sandan.web.sharing_ui import (
    act,
    can_write,
    company_names,
    keys,
    lang_of,
    price_text,
    purpose_options,
    sharing_page,
    show_terms,
    state_badge,
    terms_lines,
)
from sandan.web.shell import PageContext

KINDS = ("telemetry", "product", "file")


@dataclass(frozen=True)
class OfferCard:
    """What a catalogue card shows of an offer, read inside the unit of work."""

    id: int
    company_id: int
    provider: str
    kind: str
    title: str
    description: str
    keywords: list[str]
    price_model: str
    price_krw: int
    approval: str
    status: str
    terms: list[str]
    purpose: str | None  # the purpose the terms allow, to preselect in a request
    preview: list[dict[str, Any]] = field(default_factory=list)


def _cards(
    session: Session, principal: Principal, query: str, kind: str, lang: odrl.Lang
) -> list[OfferCard]:
    found = offers.visible_offers(
        session, principal, offers.CatalogueFilter(q=query or None, kind=kind or None)
    )
    names = company_names(session, (o.company_id for o in found))
    return [_card(session, o, names.get(o.company_id, ""), lang) for o in found]


def _card(session: Session, o: Offer, provider: str, lang: odrl.Lang) -> OfferCard:
    policy = odrl.parse_policy(o.contract_policy)
    return OfferCard(
        id=o.id,
        company_id=o.company_id,
        provider=provider,
        kind=o.kind,
        title=o.title,
        description=o.description,
        keywords=list(o.keywords),
        price_model=o.price_model,
        price_krw=o.price_krw,
        approval=o.approval,
        status=o.status,
        terms=terms_lines(session, o.contract_policy, lang),
        purpose=Terms.of(policy).purpose,
        preview=list(o.preview),
    )


def _request(page: PageContext, card: OfferCard) -> None:
    """Ask for the offer on its own terms for a purpose: a DSP ContractRequest. The provider
    answers in the inbox, or at once when the offer is approved automatically."""
    with ui.dialog() as dialog, ui.card().classes("w-[32rem]"):
        ui.label(f"{page.t('sharing_request')}: {card.title}").classes("text-lg font-semibold")
        show_terms(card.terms)
        options = purpose_options(page.lang)
        purpose = (
            ui.select(
                options, value=card.purpose or next(iter(options)), label=page.t("sharing_purpose")
            )
            .classes("w-full")
            .props('id="request-purpose"')
        )

        def send() -> None:
            body = NegotiationRequest(offer_id=card.id, purpose=str(purpose.value))
            state = act(
                page,
                lambda s, p: negotiations.start(s, p, body, keys(page.ctx)).state,
            )
            if state is None:
                return
            dialog.close()
            done = state == "finalized"
            ui.notify(page.t("sharing_signed" if done else "sharing_request_sent"), type="positive")
            ui.navigate.to("/sharing/agreements" if done else "/sharing/negotiations")

        with ui.row().classes("justify-end w-full"):
            ui.button(page.t("sharing_cancel"), on_click=dialog.close).props("flat no-caps")
            ui.button(page.t("sharing_send_request"), on_click=send).props(
                'no-caps id="request-send"'
            )
    dialog.open()


def _withdraw(page: PageContext, card: OfferCard, then: ui.refreshable[[], None]) -> None:
    if act(page, lambda s, p: offers.withdraw_offer(s, p, card.id).id) is not None:
        ui.notify(page.t("sharing_withdrawn"), type="positive")
        then.refresh()


def _offer_card(page: PageContext, card: OfferCard, reload: ui.refreshable[[], None]) -> None:
    own = card.company_id == page.principal.company_id
    with ui.card().classes("w-[30rem] offer-card").props(f'data-offer="{card.id}"'):
        with ui.row().classes("items-center gap-2 w-full"):
            ui.label(card.title).classes("text-lg font-semibold offer-title")
            ui.space()
            ui.badge(page.t(f"sharing_kind_{card.kind}")).props("color=indigo-7")
            if card.status != "published":
                state_badge(page, card.status)
        ui.label(f"{page.t('sharing_provider')}: {card.provider}").classes("text-sm")
        if card.description:
            ui.label(card.description).classes("text-sm text-slate-600")
        with ui.row().classes("gap-1"):
            for word in card.keywords:
                ui.badge(word).props("outline color=blue-grey-7")
        ui.label(price_text(page, card.price_model, card.price_krw)).classes(
            "font-medium offer-price"
        )
        ui.label(page.t(f"sharing_approval_{card.approval}")).classes("text-xs text-slate-500")
        show_terms(card.terms)
        if card.preview:
            _preview(page, card.preview)
        with ui.row().classes("justify-end w-full"):
            if own:
                ui.label(page.t("sharing_your_offer")).classes("text-sm text-slate-500")
                if card.status == "published" and can_write(page):
                    ui.button(
                        page.t("sharing_withdraw"), on_click=lambda: _withdraw(page, card, reload)
                    ).props("flat no-caps color=grey-8")
            elif can_write(page) and card.status == "published":
                ui.button(page.t("sharing_request"), on_click=lambda: _request(page, card)).props(
                    "no-caps"
                ).classes("offer-request")


def _preview(page: PageContext, rows: list[dict[str, Any]]) -> None:
    """The offer's few sample rows, folded away so that the card stays short."""
    names = list(dict.fromkeys(k for r in rows for k in r))
    columns = [{"name": n, "label": n, "field": n, "align": "left"} for n in names]
    with ui.expansion(page.t("sharing_preview"), icon="table_view").classes("w-full offer-preview"):
        table = ui.table(columns=columns, rows=[{n: r.get(n) for n in names} for r in rows])
        table.props("dense flat").classes("w-full text-xs")


def register(ctx: Context, store: TelemetryStore) -> None:
    """The catalogue here, then the other sharing pages."""

    @sharing_page(ctx, "/sharing", "sharing_catalogue")
    def catalogue_page(page: PageContext, request: Request) -> None:
        kinds = {"": page.t("sharing_all_kinds")} | {k: page.t(f"sharing_kind_{k}") for k in KINDS}
        with ui.row().classes("items-end gap-4"):
            query = ui.input(page.t("search")).classes("w-80")
            query.props('for="catalogue-search" debounce=300 clearable')
            kind = ui.select(kinds, value="", label=page.t("sharing_kind")).classes("w-48")
            kind.props('id="catalogue-kind"')

        @ui.refreshable
        def results() -> None:
            q, k = str(query.value or ""), str(kind.value or "")
            cards = act(page, lambda s, p: _cards(s, p, q, k, lang_of(page))) or []
            ui.label(f"{page.t('sharing_offers_found')}: {len(cards)}").props(
                'id="catalogue-count"'
            )
            with ui.row().classes("gap-4 items-start").props('id="catalogue"'):
                for card in cards:
                    _offer_card(page, card, results)

        query.on_value_change(lambda _: results.refresh())
        kind.on_value_change(lambda _: results.refresh())
        results()

    sharing_publish.register(ctx, store)
    sharing_negotiations.register(ctx)
    sharing_agreements.register(ctx)
    sharing_ledger.register(ctx)
