"""The negotiation inbox: every negotiation the company takes part in, as provider or consumer,
with its timeline of messages and terms, and only the buttons the Dataspace Protocol lets the
viewer's side use in the current state (the service's `allowed_for`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from nicegui import ui
from sqlalchemy.orm import Session

from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.sharing import policy as odrl
from sandan.sharing.models import Negotiation
from sandan.sharing.schemas import Proposal
from sandan.sharing.service import negotiations
from sandan.web.sharing_terms import Terms, TermsForm
from sandan.web.sharing_ui import (
    act,
    can_write,
    card_head,
    company_names,
    keys,
    lang_of,
    listing,
    local_time,
    note_button,
    offer_titles,
    sharing_page,
    show_terms,
    terms_lines,
)
from sandan.web.shell import PageContext

FINAL = ("finalized", "terminated")
COUNTER = ("contract_offer", "contract_request")
ACCEPT = ("agree", "accept")


@dataclass(frozen=True)
class Step:
    """One message of the timeline."""

    sender: str
    message: str
    terms: list[str]
    note: str
    actor: str
    at: datetime


@dataclass(frozen=True)
class Thread:
    """A negotiation as the inbox shows it to one side."""

    id: int
    title: str
    role: str | None  # provider | consumer; None for the complex's staff, who only watch
    counterpart: str
    state: str
    purpose: str
    policy: odrl.Policy
    terms: list[str]
    updated_at: datetime
    agreement_id: int | None
    steps: list[Step]
    allowed: list[str]


def _threads(
    session: Session, principal: Principal, open_only: bool, lang: odrl.Lang
) -> list[Thread]:
    found = [
        n
        for n in negotiations.list_negotiations(session, principal)
        if not (open_only and n.state in FINAL)
    ]
    titles = offer_titles(session, [n.offer_id for n in found])
    names = company_names(
        session, [c for n in found for c in (n.provider_company_id, n.consumer_company_id)]
    )
    return [_thread(session, principal, n, titles, names, lang) for n in found]


def _thread(
    session: Session,
    principal: Principal,
    n: Negotiation,
    titles: dict[int, str],
    names: dict[int, str],
    lang: odrl.Lang,
) -> Thread:
    party = negotiations.party_of(principal, n)
    role = party.value if party else None
    other = n.consumer_company_id if role == "provider" else n.provider_company_id
    agreement = negotiations.agreement_of(session, n.id)
    steps = [
        Step(
            m.sender,
            m.message,
            terms_lines(session, m.policy, lang) if m.policy else [],
            m.note,
            m.actor,
            m.at,
        )
        for m in negotiations.messages(session, n.id)
    ]
    return Thread(
        id=n.id,
        title=titles.get(n.offer_id, f"#{n.offer_id}"),
        role=role,
        counterpart=names.get(other or 0, n.consumer_participant if role == "provider" else ""),
        state=n.state,
        purpose=n.purpose,
        policy=odrl.parse_policy(n.policy),
        terms=terms_lines(session, n.policy, lang),
        updated_at=n.updated_at,
        agreement_id=agreement.id if agreement else None,
        steps=steps,
        allowed=negotiations.allowed_for(principal, n),
    )


def _counter_dialog(page: PageContext, thread: Thread, send: Callable[[Terms, str], bool]) -> None:
    """New terms for the other side: the current ones, edited; other rules stay as they are."""
    with ui.dialog() as dialog, ui.card().classes("w-[36rem]"):
        ui.label(page.t("sharing_counter_" + (thread.role or "provider"))).classes(
            "text-lg font-semibold"
        )
        form = TermsForm(page, Terms.of(thread.policy), "counter")
        note = ui.input(page.t("sharing_note")).classes("w-full").props('for="counter-note"')

        def ok() -> None:
            if send(form.value(), str(note.value or "")):
                dialog.close()

        with ui.row().classes("justify-end w-full"):
            ui.button(page.t("sharing_cancel"), on_click=dialog.close).props("flat no-caps")
            ui.button(page.t("sharing_send"), on_click=ok).props('no-caps id="counter-send"')
    dialog.open()


class Inbox:
    """The list of threads; every action refreshes it from the database."""

    def __init__(self, page: PageContext) -> None:
        self.page = page
        # Quasar sets timeline titles as headings; here they are one line of a conversation
        ui.add_css(".timeline .q-timeline__title { font-size: 1rem; margin-bottom: 2px; }")
        labels = {"open": page.t("sharing_open_only"), "all": page.t("sharing_all")}
        self.filter = ui.toggle(labels, value="all").props('id="inbox-filter" no-caps')
        self.filter.on_value_change(lambda _: self.show.refresh())
        self.show()

    @ui.refreshable_method
    def show(self) -> None:
        page, open_only = self.page, self.filter.value == "open"
        threads = act(page, lambda s, p: _threads(s, p, open_only, lang_of(page)))
        for thread in listing(page, threads, "sharing_inbox_empty", "inbox"):
            self._thread(thread)

    def _thread(self, th: Thread) -> None:
        page, t = self.page, self.page.t
        with ui.card().classes("w-full max-w-5xl negotiation").props(f'id="negotiation-{th.id}"'):
            card_head(
                page,
                th.title,
                (th.state, f"negotiation-{th.id}-state"),
                local_time(page.ctx, th.updated_at),
                (th.role, th.counterpart, th.purpose),
            )
            with ui.row().classes("w-full gap-6 items-start no-wrap"):
                with ui.column().classes("w-1/2"):
                    ui.label(t("sharing_current_terms")).classes("font-medium")
                    show_terms(th.terms)
                    self._buttons(th)
                with ui.column().classes("w-1/2"):
                    ui.label(t("sharing_timeline")).classes("font-medium")
                    self._timeline(th)

    def _timeline(self, th: Thread) -> None:
        page, t = self.page, self.page.t
        with ui.timeline(side="right").props("dense").classes("timeline"):
            for step in th.steps:
                mine = step.sender == th.role
                said = f"{t('sharing_party_' + step.sender)} · {t('sharing_msg_' + step.message)}"
                with ui.timeline_entry(
                    title=said,
                    subtitle=f"{local_time(page.ctx, step.at)} · {step.actor}",
                    color="primary" if mine else "grey-7",
                ):
                    if step.note:
                        ui.label(f"“{step.note}”").classes("text-sm italic")
                    if step.terms:
                        show_terms(step.terms)

    def _buttons(self, th: Thread) -> None:
        page, t = self.page, self.page.t
        with ui.row().classes("gap-2 pt-2"):
            if th.agreement_id is not None:
                ui.link(
                    t("sharing_open_agreement"), f"/sharing/agreements#agreement-{th.agreement_id}"
                )
            if not can_write(page):
                return
            for message in th.allowed:
                if message in COUNTER:
                    ui.button(
                        t("sharing_counter_" + (th.role or "provider")),
                        on_click=lambda: _counter_dialog(
                            page, th, lambda terms, note: self._counter(th, terms, note)
                        ),
                    ).props("no-caps outline").classes("negotiation-counter")
                elif message in ACCEPT:
                    note_button(
                        page,
                        "sharing_do_" + message,
                        th.terms,
                        lambda note: self._accept(th, note),
                        "color=positive",
                    ).classes("negotiation-accept")
                elif message == "terminate":
                    note_button(
                        page,
                        "sharing_terminate",
                        [],
                        lambda note: self._terminate(th, note),
                        "flat color=negative",
                    ).classes("negotiation-terminate")

    # --- messages ------------------------------------------------------------------------------

    def _done(self, state: str | None) -> bool:
        if state is None:
            return False
        ui.notify(
            f"{self.page.t('sharing_state')}: {self.page.t('sharing_state_' + state)}",
            type="positive",
        )
        self.show.refresh()
        return True

    def _counter(self, th: Thread, terms: Terms, note: str) -> bool:
        """The edited terms go out as a whole policy; building it inside the unit of work
        lets a refused value come back as a notice like any other refusal."""

        def send(session: Session, principal: Principal) -> str:
            proposal = Proposal(policy=terms.policy(th.policy), note=note)
            return negotiations.counter(session, principal, th.id, proposal).state

        return self._done(act(self.page, send))

    def _accept(self, th: Thread, note: str) -> bool:
        k = keys(self.page.ctx)
        return self._done(
            act(self.page, lambda s, p: negotiations.accept(s, p, th.id, k, note).state)
        )

    def _terminate(self, th: Thread, note: str) -> bool:
        return self._done(
            act(self.page, lambda s, p: negotiations.terminate(s, p, th.id, note).state)
        )


def register(ctx: Context) -> None:
    @sharing_page(ctx, "/sharing/negotiations", "sharing_inbox")
    def inbox_page(page: PageContext, request: Request) -> None:
        Inbox(page)
