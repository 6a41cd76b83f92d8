"""Publishing an offer, step by step: what (a product of one of the company's lines, some of
its telemetry tags, or an uploaded CSV or Parquet file), who may see it (the whole complex,
or one company named by its business registration number), the terms, the price, and a
review of the policy as the consumer will read it before anything is stored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request
from nicegui import events, ui
from pydantic import ValidationError
from sqlalchemy.orm import Session

from sandan.core.context import Context
from sandan.core.errors import SandanError
from sandan.core.identity.principal import Principal
from sandan.registry import service as registry
from sandan.registry.service import CompanyProfile
from sandan.registry.validators import format_brn, normalize_brn
from sandan.sharing import policy as odrl
from sandan.sharing.schemas import FileSelection, OfferIn, ProductSelection, TelemetrySelection
from sandan.sharing.service import files, publishing
from sandan.telemetry.store import TelemetryStore
from sandan.web.sharing_terms import Terms, TermsForm, new_uid
from sandan.web.sharing_ui import (
    act,
    can_write,
    describe,
    lang_of,
    price_text,
    read,
    refusal,
    sharing_page,
    show_terms,
)
from sandan.web.shell import PageContext

PRODUCTS = ("line_hourly", "daily_oee", "energy_profile", "quality_stats")
PRICE_MODELS = ("free", "one_off", "monthly", "per_1000_rows")
TAG_RESOLUTIONS = (3600, 60, 0)


@dataclass
class Choices:
    """The company's lines and tags to pick from."""

    lines: dict[int, str] = field(default_factory=dict)
    tags: dict[int, str] = field(default_factory=dict)


def _choices(session: Session, principal: Principal, company_id: int) -> Choices:
    found = Choices()
    for m in registry.machines_with_tags(session, principal, company_id=company_id):
        if m.line_id is not None:
            found.lines.setdefault(m.line_id, m.line_label)
        for name, tag_id in sorted(m.tags.items()):
            found.tags[tag_id] = f"{m.label} · {name}"
    return found


def _recipient(session: Session, brn: str) -> CompanyProfile | None:
    return registry.company_by_brn(session, normalize_brn(brn))


def _only_for(company_id: int) -> odrl.Policy:
    """The access policy that shows the offer to one company and to nobody else."""
    only = odrl.Constraint(left=odrl.Operand.recipient, operator=odrl.Operator.eq, right=company_id)
    return odrl.Policy(
        uid=new_uid(), permissions=(odrl.Permission(action=odrl.Action.use, constraints=(only,)),)
    )


class PublishForm:
    """The stepper and what its steps hold so far."""

    def __init__(self, page: PageContext, choices: Choices, store: TelemetryStore) -> None:
        self.page, self.choices = page, choices
        self.source = files.source(page.ctx.settings, store)
        self.recipient: CompanyProfile | None = None
        self.upload: tuple[str, bytes] | None = None  # the file as received: name, bytes
        t = page.t
        with ui.stepper().props("vertical").classes("w-full max-w-4xl") as self.stepper:
            with ui.step(t("sharing_step_what")):
                self._what()
                self._nav(first=True, check=self._check_what)
            with ui.step(t("sharing_step_who")):
                self._who()
                self._nav(check=self._check_who)
            with ui.step(t("sharing_step_terms")):
                self.terms = TermsForm(page, Terms(purpose="quality_improvement"), "publish")
                self._nav()
            with ui.step(t("sharing_step_price")):
                self._price()
                self._nav(then=self.review.refresh)
            with ui.step(t("sharing_step_review")):
                self.review()
                with ui.stepper_navigation():
                    ui.button(t("sharing_publish_now"), on_click=self.publish).props(
                        'no-caps id="publish-submit"'
                    )
                    ui.button(t("sharing_back"), on_click=self.stepper.previous).props(
                        "flat no-caps"
                    )

    # --- steps ---------------------------------------------------------------------------------

    def _what(self) -> None:
        t = self.page.t
        self.title = ui.input(t("sharing_title")).classes("w-full").props('for="publish-title"')
        self.description = ui.textarea(t("sharing_description")).classes("w-full")
        self.description.props('for="publish-description" rows=2')
        self.keywords = ui.input(t("sharing_keywords")).classes("w-full")
        self.keywords.props('for="publish-keywords"')
        kinds = {k: t(f"sharing_kind_{k}") for k in ("product", "telemetry", "file")}
        self.kind = ui.toggle(kinds, value="product").props('id="publish-kind" no-caps')
        with (
            ui.column()
            .classes("w-full gap-2")
            .bind_visibility_from(self.kind, "value", value="product")
        ):
            lines = {**self.choices.lines, 0: t("sharing_whole_company")}
            self.line = ui.select(lines, value=next(iter(lines)), label=t("sharing_line"))
            self.line.classes("w-96").props('id="publish-line"')
            products = {p: t(f"sharing_product_{p}") for p in PRODUCTS}
            self.product = ui.select(products, value="line_hourly", label=t("sharing_product"))
            self.product.classes("w-96").props('id="publish-product"')
        with (
            ui.column()
            .classes("w-full gap-2")
            .bind_visibility_from(self.kind, "value", value="telemetry")
        ):
            self.tags = (
                ui.select(
                    self.choices.tags, multiple=True, with_input=True, label=t("sharing_tags")
                )
                .classes("w-full")
                .props('for="publish-tags" use-chips')
            )
            every = {r: t(f"sharing_every_{r}") for r in TAG_RESOLUTIONS}
            self.every = ui.select(every, value=3600, label=t("sharing_resolution"))
            self.every.classes("w-96")
        with (
            ui.column()
            .classes("w-full gap-1")
            .bind_visibility_from(self.kind, "value", value="file")
        ):
            self._file()
        self.live = ui.checkbox(t("sharing_live"), value=False).props('id="publish-live"')
        self.live.bind_visibility_from(self.kind, "value", backward=lambda k: k != "file")
        self.show_preview = ui.checkbox(t("sharing_show_preview"), value=True)
        self.show_preview.props('id="publish-preview"')

    def _file(self) -> None:
        """The upload: read into memory here, checked and stored only when published."""
        t = self.page.t

        async def received(event: events.UploadEventArguments) -> None:
            self.upload = (event.file.name, await event.file.read())
            got.set_text(f"{t('sharing_file_received')}: {event.file.name}")

        ui.upload(
            label=t("sharing_file_upload"),
            on_upload=received,
            on_rejected=lambda: ui.notify(t("sharing_file_too_large"), type="warning"),
            auto_upload=True,
            max_file_size=files.MAX_UPLOAD_BYTES,
        ).props('accept=".csv,.parquet" id="publish-file"').classes("w-96")
        got = ui.label().classes("text-sm font-medium").props('id="publish-file-name"')
        ui.label(t("sharing_file_help")).classes("text-xs text-slate-500")

    def _who(self) -> None:
        t = self.page.t
        audience = {"all": t("sharing_everyone"), "one": t("sharing_one_company")}
        self.audience = ui.radio(audience, value="all").props('id="publish-audience"')
        with (
            ui.row()
            .classes("items-end gap-4")
            .bind_visibility_from(self.audience, "value", value="one")
        ):
            self.brn = ui.input(t("brn"), placeholder="123-45-67890").classes("w-64")
            self.brn.props('for="publish-brn"')
            self.brn.on("blur", self._find_recipient)
            ui.button(t("sharing_find"), on_click=self._find_recipient).props(
                'no-caps flat id="publish-find"'
            )
            self.found = ui.label().classes("font-medium").props('id="publish-recipient"')

    def _price(self) -> None:
        t = self.page.t
        models = {m: t(f"sharing_price_{m}") for m in PRICE_MODELS}
        self.price_model = ui.select(models, value="free", label=t("sharing_price_model"))
        self.price_model.classes("w-64").props('id="publish-price-model"')
        self.price = ui.number(t("sharing_price_krw"), value=0, min=0, precision=0)
        self.price.classes("w-64").props('for="publish-price"')
        self.price.bind_enabled_from(self.price_model, "value", backward=lambda m: m != "free")
        approvals = {a: t(f"sharing_approval_{a}") for a in ("auto", "manual")}
        self.approval = ui.radio(approvals, value="manual").props('id="publish-approval"')

    @ui.refreshable_method
    def review(self) -> None:
        page, t = self.page, self.page.t
        try:
            offer = self.offer()
        except (SandanError, ValidationError) as exc:
            ui.label(refusal(exc)).classes("text-red-700").props('id="publish-problem"')
            return
        with ui.column().classes("gap-1").props('id="publish-review"'):
            ui.label(offer.title).classes("text-lg font-semibold")
            who = self.recipient.name if self.recipient else t("sharing_everyone")
            ui.label(f"{t('sharing_visible_to')}: {who}")
            ui.label(
                f"{t('sharing_price')}: {price_text(page, offer.price_model, offer.price_krw)}"
            )
            ui.label(t(f"sharing_approval_{offer.approval}"))
            names = {self.recipient.id: self.recipient.name} if self.recipient else {}
            lines = describe(offer.contract_policy, lang_of(page), names)
            show_terms(lines, "publish-terms")

    def _nav(
        self,
        *,
        first: bool = False,
        check: Callable[[], bool] | None = None,
        then: Callable[[], object] | None = None,
    ) -> None:
        def forward() -> None:
            if check is not None and not check():
                return
            if then is not None:
                then()
            self.stepper.next()

        with ui.stepper_navigation():
            ui.button(self.page.t("sharing_next"), on_click=forward).props("no-caps").classes(
                "publish-next"
            )
            if not first:
                ui.button(self.page.t("sharing_back"), on_click=self.stepper.previous).props(
                    "flat no-caps"
                )

    # --- checks and the offer ------------------------------------------------------------------

    def _problem(self, key: str) -> bool:
        ui.notify(self.page.t(key), type="warning")
        return False

    def _check_what(self) -> bool:
        if len(str(self.title.value or "").strip()) < 3:
            return self._problem("sharing_need_title")
        if self.kind.value == "telemetry" and not self.tags.value:
            return self._problem("sharing_need_tags")
        if self.kind.value == "file" and self.upload is None:
            return self._problem("sharing_need_file")
        return True

    def _find_recipient(self) -> None:
        brn = str(self.brn.value or "")
        self.recipient = read(self.page, lambda s, _: _recipient(s, brn)) if brn else None
        if self.recipient is None:
            self.found.set_text(self.page.t("sharing_no_such_company") if brn else "")
        else:
            self.found.set_text(f"{self.recipient.name} ({format_brn(self.recipient.brn)})")

    def _check_who(self) -> bool:
        if self.audience.value == "all":
            self.recipient = None
            return True
        self._find_recipient()
        if self.recipient is None:
            return self._problem("sharing_no_such_company")
        if self.recipient.id == self.page.principal.company_id:
            return self._problem("sharing_not_yourself")
        return True

    def _selection(self) -> ProductSelection | TelemetrySelection | FileSelection:
        live = bool(self.live.value)
        if self.kind.value == "file":
            return FileSelection()
        if self.kind.value == "telemetry":
            tags = [int(v) for v in self.tags.value or []]
            return TelemetrySelection(tag_ids=tags, resolution=int(self.every.value), live=live)
        line = int(self.line.value or 0) or None  # 0: the whole company
        return ProductSelection(product=str(self.product.value), line_id=line, live=live)

    def offer(self) -> OfferIn:
        """The offer as the steps describe it; pydantic and the policy model check it."""
        one = self.recipient.id if self.audience.value == "one" and self.recipient else None
        free = self.price_model.value == "free"
        return OfferIn(
            title=str(self.title.value or "").strip(),
            description=str(self.description.value or "").strip(),
            keywords=[k.strip() for k in str(self.keywords.value or "").split(",") if k.strip()],
            selection=self._selection(),
            access_policy=_only_for(one) if one else None,
            contract_policy=self.terms.value().policy(recipient=one),
            price_model=str(self.price_model.value),
            price_krw=0 if free else int(self.price.value or 0),
            approval=str(self.approval.value),
            preview=bool(self.show_preview.value),
        )

    def publish(self) -> None:
        try:
            data = self.offer()
        except (SandanError, ValidationError) as exc:
            ui.notify(refusal(exc), type="negative", multi_line=True)
            return
        upload, source = self.upload, self.source

        def store(s: Session, p: Principal) -> int:
            offer = publishing.publish(s, p, data, source)
            if offer.kind == "file" and upload is not None:  # a bad file undoes the draft
                publishing.upload(s, p, offer.id, upload[0], upload[1], source)
            return offer.id

        if act(self.page, store) is None:
            return
        ui.notify(self.page.t("sharing_published"), type="positive")
        ui.navigate.to("/sharing")


def register(ctx: Context, store: TelemetryStore) -> None:
    @sharing_page(ctx, "/sharing/publish", "sharing_publish")
    def publish_page(page: PageContext, request: Request) -> None:
        company_id = page.principal.company_id
        if company_id is None or not can_write(page):
            ui.label(page.t("sharing_publish_needs_company")).classes("text-red-700")
            return
        PublishForm(page, read(page, lambda s, p: _choices(s, p, company_id)), store)
