"""Pieces the data-sharing pages share: their frame and sub-navigation, running a unit of work
as the viewer, and the words for states, prices, purposes and policies."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from nicegui.client import Client
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.core.clock import as_utc
from sandan.core.context import Context
from sandan.core.errors import SandanError
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Scope
from sandan.registry import service as registry
from sandan.sharing import policy as odrl
from sandan.sharing.models import Offer
from sandan.sharing.service.negotiations import Keys
from sandan.web import shell
from sandan.web.formats import krw
from sandan.web.i18n import t
from sandan.web.shell import PageContext, header, to_login, viewer

T = TypeVar("T")

# (path, i18n key, element id); the sub-navigation of every sharing page, in this order
SECTIONS = (
    ("/sharing", "sharing_catalogue", "catalogue"),
    ("/sharing/publish", "sharing_publish", "publish"),
    ("/sharing/negotiations", "sharing_inbox", "inbox"),
    ("/sharing/agreements", "sharing_agreements", "agreements"),
    ("/sharing/usage", "sharing_usage", "usage"),
    ("/sharing/statements", "sharing_statements", "statements"),
)
BENCHMARKS = ("/sharing/benchmarks", "sharing_benchmarks", "benchmarks")


def _registered(path: str) -> bool:
    """Whether some module registered a page at `path` (the benchmarks page is optional)."""
    return path in Client.page_routes.values()


def _open_page(ctx: Context, request: Request, title_key: str) -> PageContext | RedirectResponse:
    """The viewer with the frame drawn (header, sharing tabs, title), or the login redirect."""
    page = viewer(ctx, request)
    if page is None:
        return to_login(request)
    header(page, page.t(title_key))
    sections = [s for s in SECTIONS if s[2] != "publish" or can_write(page)]
    if _registered(BENCHMARKS[0]):
        sections.append(BENCHMARKS)
    with ui.row().classes("gap-1 items-center").props('id="sharing-nav"'):
        for path, key, name in sections:
            current = path == request.url.path
            ui.link(page.t(key), path).classes(
                "px-3 py-1 rounded no-underline "
                + ("bg-slate-800 text-white" if current else "text-slate-700 bg-slate-100")
            ).props(f'id="sharing-nav-{name}"')
    ui.label(page.t(title_key)).classes("text-2xl font-bold")
    return page


def can_write(page: PageContext) -> bool:
    """Publishing, negotiating and taking tokens speak for a company with sharing rights."""
    return page.principal.company_id is not None and page.principal.has(Scope.sharing_write)


def keys(ctx: Context) -> Keys:
    return Keys(ctx.settings.resolved_secret_key(), ctx.settings.sharing_fee_rate)


def refusal(exc: Exception) -> str:
    """A refusal in one line; pydantic's own errors name the field like ours do."""
    if not isinstance(exc, ValidationError):
        return str(exc)
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors())


def _refused(exc: Exception) -> None:
    ui.notify(refusal(exc), type="negative", multi_line=True)


def act(page: PageContext, work: Callable[[Session, Principal], T]) -> T | None:
    """shell.act() as the sharing pages show it: a lost session and a refusal (pydantic's
    too) become notices, so the person can correct the input and try again."""
    return shell.act(
        page,
        work,
        ended="sharing_session_ended",
        refused=_refused,
        catching=(SandanError, ValidationError),
    )


def read(page: PageContext, work: Callable[[Session, Principal], T]) -> T:
    """A read as the viewer the page was opened by, while the page is built."""
    with page.ctx.db.unit(page.principal) as session:
        return work(session, page.principal)


def company_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Names of the companies on the other side of offers, negotiations and agreements."""
    found = registry.company_profiles(session, [i for i in ids if i is not None])
    return {cid: p.name for cid, p in found.items()}


def offer_titles(session: Session, offer_ids: list[int]) -> dict[int, str]:
    """Titles of the negotiated offers: a party may name an offer it negotiates for even
    after the provider withdrew it from the catalogue."""
    rows = session.execute(select(Offer.id, Offer.title).where(Offer.id.in_(offer_ids)))
    return {offer_id: title for offer_id, title in rows}


def _note_dialog(
    page: PageContext, label: str, lines: list[str], send: Callable[[str], bool]
) -> None:
    """Ask for an optional note before a message that ends or settles something."""
    with ui.dialog() as dialog, ui.card().classes("w-[32rem]"):
        ui.label(label).classes("text-lg font-semibold")
        if lines:
            show_terms(lines)
        note = ui.input(page.t("sharing_note")).classes("w-full").props('for="negotiation-note"')

        def ok() -> None:
            if send(str(note.value or "")):
                dialog.close()

        with ui.row().classes("justify-end w-full"):
            ui.button(page.t("sharing_cancel"), on_click=dialog.close).props("flat no-caps")
            ui.button(label, on_click=ok).props('no-caps id="negotiation-confirm"')
    dialog.open()


def note_button(
    page: PageContext, key: str, lines: list[str], send: Callable[[str], bool], look: str
) -> ui.button:
    """A button for a message that settles or ends something: it asks for a note first,
    showing `lines` (the terms being accepted, say); `look` is its Quasar props."""
    label = page.t(key)
    return ui.button(label, on_click=lambda: _note_dialog(page, label, lines, send)).props(
        f"no-caps {look}"
    )


def sharing_page(
    ctx: Context, path: str, title_key: str
) -> Callable[[Callable[[PageContext, Request], None]], None]:
    """Register `build` as the page at `path` inside the sharing frame; a visitor who is not
    logged in is redirected to the login page before anything is drawn."""

    def register(build: Callable[[PageContext, Request], None]) -> None:
        @ui.page(path)
        def sharing_area_page(request: Request) -> RedirectResponse | None:
            page = _open_page(ctx, request, title_key)
            if isinstance(page, RedirectResponse):
                return page
            build(page, request)
            return None

    return register


def listing(
    page: PageContext, items: list[T] | None, empty_key: str, element_id: str
) -> Iterator[T]:
    """The items of a list (drawn by the caller in a column), or a line saying there are none."""
    if not items:
        ui.label(page.t(empty_key)).classes("text-slate-500")
    with ui.column().classes("w-full gap-4").props(f'id="{element_id}"'):
        yield from items or []


def card_head(
    page: PageContext,
    title: str,
    state: tuple[str, str],
    aside: str,
    parties: tuple[str | None, str, str],
) -> None:
    """The head of a negotiation or agreement card: title, state badge (state, element id),
    a note on the right, and the viewer's side, the other company and the purpose."""
    with ui.row().classes("items-center gap-3 w-full"):
        ui.label(title).classes("text-lg font-semibold")
        state_badge(page, *state)
        ui.space()
        ui.label(aside).classes("text-sm text-slate-600")
    role, counterpart, purpose = parties
    side = page.t(f"sharing_as_{role}") if role else page.t("sharing_watching")
    ui.label(
        f"{side} · {counterpart} · {page.t('sharing_purpose')}: {purpose_name(purpose, page.lang)}"
    ).classes("text-sm")


# --- words -------------------------------------------------------------------------------------


def lang_of(page: PageContext) -> odrl.Lang:
    return "ko" if page.lang == "ko" else "en"


def purpose_name(code: str, lang: str) -> str:
    label = odrl.PURPOSES.get(code)
    if label is None:
        return code
    return label.ko if lang == "ko" else label.en


def purpose_options(lang: str) -> dict[str, str]:
    return {code: purpose_name(code, lang) for code in odrl.PURPOSES}


def price_text(page: PageContext, model: str, amount: int) -> str:
    """'Free', or the amount with how often it is charged."""
    if model == "free":
        return page.t("sharing_price_free")
    return f"{krw(amount, page.lang)} · {page.t('sharing_price_' + model)}"


def local_time(ctx: Context, moment: datetime | None) -> str:
    """A moment in the plants' time zone, as the people of the complex read their clocks."""
    if moment is None:
        return "–"
    return (
        as_utc(moment).astimezone(ZoneInfo(ctx.settings.plant_timezone)).strftime("%Y-%m-%d %H:%M")
    )


LEGEND = "※ "  # starts a line that explains the policy rather than being part of it


def recipients(policy: odrl.Policy) -> set[int]:
    """The company ids a policy names as recipients."""
    found: set[int] = set()
    rules: list[odrl.Permission | odrl.Prohibition] = [*policy.permissions, *policy.prohibitions]
    for rule in rules:
        for c in rule.constraints:
            if c.left is odrl.Operand.recipient:
                values = c.right if isinstance(c.right, tuple) else (c.right,)
                found.update(v for v in values if isinstance(v, int))
    return found


def describe(policy: odrl.Policy, lang: odrl.Lang, names: dict[int, str]) -> list[str]:
    """The policy as readable lines, with the companies it names by id named by name (a
    policy keeps ids, which people do not know their partners by)."""
    lines = odrl.describe(policy, lang)
    for company_id in sorted(recipients(policy)):
        if company_id in names:
            text = t("sharing_recipient_is", lang)
            lines.append(LEGEND + text.format(id=company_id, name=names[company_id]))
    return lines


def terms_lines(session: Session, policy: dict[str, Any], lang: odrl.Lang) -> list[str]:
    """A stored policy as readable lines; one the parser refuses is shown as refused."""
    try:
        parsed = odrl.parse_policy(policy)
    except SandanError as exc:
        return [exc.message]
    return describe(parsed, lang, company_names(session, recipients(parsed)))


def show_terms(lines: list[str], element_id: str | None = None) -> None:
    """The policy lines, indented as `describe` indents them."""
    box = ui.column().classes("gap-0 text-sm bg-slate-50 rounded p-2 w-full terms")
    if element_id:
        box.props(f'id="{element_id}"')
    with box:
        for line in lines:
            if line.startswith(LEGEND):
                ui.label(line).classes("text-xs text-slate-500 pt-1")
            else:
                ui.label(line.strip()).classes("pl-4" if line.startswith(" ") else "font-medium")


STATE_COLOURS = {
    "requested": "blue-7",
    "offered": "amber-8",
    "accepted": "teal-7",
    "agreed": "teal-7",
    "verified": "teal-7",
    "finalized": "green-7",
    "active": "green-7",
    "terminated": "grey-7",
    "expired": "grey-7",
    "published": "green-7",
    "withdrawn": "grey-7",
}


def state_badge(page: PageContext, state: str, element_id: str | None = None) -> None:
    badge = ui.badge(page.t("sharing_state_" + state)).props(
        f"color={STATE_COLOURS.get(state, 'grey-7')}"
    )
    if element_id:
        badge.props(f'id="{element_id}"')
