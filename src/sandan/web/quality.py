"""A company's data-quality page: the daily score of every numeric tag over the last seven UTC
days as a heat map (worst first, or by machine; filtered by machine), a tag's days and gaps
on a click, and the newest gaps of the last 24 hours.

Every figure comes from the permission-filtered services behind `GET /telemetry/quality` and
`/gaps` (`telemetry.quality`), called with the viewer's principal: the page chooses the tags,
days and window and only draws. Anomalies are not shown: `telemetry.anomaly` events are
announced on the bus but nothing stores them (docs/telemetry.md §12)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import run, ui
from nicegui.events import GenericEventArguments
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.telemetry import quality
from sandan.telemetry.store import TelemetryStore
from sandan.web import quality_view as view
from sandan.web.oee import company_heading
from sandan.web.shell import PageContext, header, to_login, viewer

DAYS = 7  # UTC days up to and including today
GAP_WINDOW = timedelta(hours=24)
GAP_ROWS = 200  # the newest gaps a table shows
PAGE_ROWS = 15  # of them on one page of the table
BELOW = 80.0  # "tags below 80 today"
REFRESH_S = 60.0
REJECTS_API = "/api/v1/telemetry/dead-letters"
_ROW_CLICK = "(e) => { const r = e.target.closest('tr[data-tag]'); if (r) emit(r.dataset.tag); }"


@dataclass
class Figures:
    """What one load read: the tags, their daily rows by (tag, day), and the newest gaps."""

    lines: list[view.TagLine]
    days: list[date]
    cells: view.Cells = field(default_factory=dict)
    gaps: list[dict[str, Any]] = field(default_factory=list)


class QualityPage:
    """The page's state: the viewer, the filter, the sort and the tag whose detail is open."""

    def __init__(self, page: PageContext, store: TelemetryStore, company_id: int) -> None:
        self.page = page
        self.store = store
        self.company_id = company_id
        self.zone = ZoneInfo(page.ctx.settings.plant_timezone)
        self.figures: Figures | None = None
        self.selected: int | None = None
        t = page.t
        ui.label(t("dq_intro")).classes("text-sm text-slate-600 max-w-5xl")
        with ui.row().classes("items-center gap-4"):
            self.group = (
                ui.select({view.ALL: t("dq_all_machines")}, value=view.ALL, label=t("dq_machine"))
                .classes("w-80")
                .props('id="dq-machine"')
            )
            self.sort = ui.toggle(
                {"worst": t("dq_sort_worst"), "machine": t("dq_sort_machine")}, value="worst"
            ).props('id="dq-sort"')
            ui.link(t("dq_rejects_link"), REJECTS_API, new_tab=True).classes("text-sm").props(
                'id="dq-rejects-link"'
            )
        self.cards: dict[str, ui.label] = {}
        with ui.row().classes("w-full gap-4"):
            for key in ("tags", "today_mean", "below", "gaps_24h"):
                with ui.card().classes("w-48"):
                    ui.label(t(f"dq_{key}")).classes("text-sm text-slate-600")
                    self.cards[key] = (
                        ui.label("…").classes("text-2xl font-bold").props(f'id="dq-{key}"')
                    )
        ui.label(t("dq_heatmap")).classes("text-lg font-semibold")
        ui.html(view.legend_html(page.lang), sanitize=False)
        self.heatmap = (
            ui.html("…", sanitize=False)
            .classes("w-full overflow-x-auto")
            .props('id="dq-heatmap-box"')
            .on("click", self.pick, js_handler=_ROW_CLICK)
        )
        ui.label(t("dq_detail")).classes("text-lg font-semibold")
        self.detail_title = ui.label(t("dq_pick_row")).props('id="dq-detail-title"')
        self.detail_days = self._table("dq-detail-days", _columns(page, DAY_COLUMNS))
        self.detail_gaps = self._table("dq-detail-gaps", _columns(page, GAP_COLUMNS), PAGE_ROWS)
        ui.label(t("dq_gaps_24h")).classes("text-lg font-semibold")
        ui.label(t("dq_gaps_newest").format(n=GAP_ROWS, tz=self.zone.key)).classes(
            "text-sm text-slate-600"
        )
        self.gaps = self._table("dq-gaps", _columns(page, GAP_COLUMNS), PAGE_ROWS)
        ui.label(t("dq_anomalies_note")).classes("text-xs text-slate-500").props(
            'id="dq-anomalies-note"'
        )
        self.group.on_value_change(lambda _: self.regroup())
        self.sort.on_value_change(lambda _: self.draw())

    @staticmethod
    def _table(element_id: str, columns: list[dict[str, Any]], rows: int = 0) -> ui.table:
        """A table of all its rows, or of pages of `rows` (the gap lists can be long)."""
        table = ui.table(columns=columns, rows=[], row_key="key", pagination=rows)
        props = "dense flat" if rows else "dense flat hide-pagination"
        return table.classes("w-full").props(f'id="{element_id}" {props}')

    def _shown(self) -> list[view.TagLine]:
        assert self.figures is not None
        lines = self.figures.lines
        if self.group.value != view.ALL:
            lines = [line for line in lines if line.group == self.group.value]
        return lines

    # ------------------------------------------------------------------ reading

    def _read(self, principal: Principal) -> Figures:
        """One unit of work for the viewer: the company's tags with their days, and the
        newest gaps of the last 24 hours."""
        now = utcnow()
        days = [now.date() - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
        with self.page.ctx.db.unit(principal) as session:
            lines = view.company_tags(session, principal, self.company_id, self.page.lang)
            ids = [line.id for line in lines]
            rows = quality.quality_daily(
                session, principal, self.store, ids, days[0], days[-1], now=now
            )
            gaps = self._gaps(session, principal, ids, now)
        cells = {(row["tag_id"], row["day"]): row for row in rows}
        return Figures(lines, days, cells, gaps)

    def _read_gaps(self, principal: Principal, ids: list[int]) -> list[dict[str, Any]]:
        with self.page.ctx.db.unit(principal) as session:
            return self._gaps(session, principal, ids, utcnow())

    def _gaps(
        self, session: Session, principal: Principal, ids: list[int], now: datetime
    ) -> list[dict[str, Any]]:
        """The newest gaps of these tags in the last 24 hours, the latest start first."""
        return quality.gaps(
            session,
            principal,
            self.store,
            ids,
            now - GAP_WINDOW,
            now,
            limit=GAP_ROWS,
            now=now,
            newest_first=True,
        )

    async def load(self) -> None:
        """Read everything again off the event loop (a week of readings is scanned), then
        draw; the login is checked first, since a page can outlive its session."""
        principal = self.page.still_allowed()
        if principal is None:
            ui.navigate.to("/login")
            return
        figures = await run.io_bound(self._read, principal)
        if figures is None:  # the server is stopping
            return
        self.figures = figures
        self.group.set_options(view.groups(self.figures.lines, self.page.lang))
        if self.group.value != view.ALL:
            await self.regroup()
        self.draw()
        if self.selected is not None:
            await self.show_detail(self.selected)

    async def regroup(self) -> None:
        """A machine chosen: the gaps are read again for its tags (the newest of these)."""
        if self.figures is None:
            return
        principal = self.page.still_allowed()
        if principal is None:
            ui.navigate.to("/login")
            return
        ids = [line.id for line in self._shown()]
        self.figures.gaps = (
            (await run.io_bound(self._read_gaps, principal, ids) or []) if ids else []
        )
        self.draw()

    # ------------------------------------------------------------------ drawing

    def draw(self) -> None:
        if self.figures is None:
            return
        f, lang = self.figures, self.page.lang
        shown = view.ordered(self._shown(), f.cells, f.days, str(self.sort.value))
        if not f.lines:
            self.heatmap.set_content(f"<p>{self.page.t('dq_no_tags')}</p>")
        else:
            self.heatmap.set_content(view.heatmap_html(shown, f.cells, f.days, lang, self.selected))
        today = [
            f.cells[(line.id, f.days[-1])] for line in shown if (line.id, f.days[-1]) in f.cells
        ]
        mean = sum(r["score"] for r in today) / len(today) if today else None
        self.cards["tags"].set_text(str(len(shown)))
        self.cards["today_mean"].set_text("–" if mean is None else f"{mean:.1f}")
        self.cards["below"].set_text(str(sum(1 for r in today if r["score"] < BELOW)))
        more = "+" if len(f.gaps) >= GAP_ROWS else ""
        self.cards["gaps_24h"].set_text(f"{len(f.gaps)}{more}")
        self.gaps.rows = view.gap_rows(f.gaps, self._names(), self.zone, lang)
        self.gaps.update()

    def _names(self) -> dict[int, str]:
        assert self.figures is not None
        return {line.id: f"{line.group_label} · {line.name}" for line in self.figures.lines}

    async def pick(self, event: GenericEventArguments) -> None:
        """A row clicked in the heat map: that tag's days and gaps below it."""
        raw = event.args[0] if isinstance(event.args, list) and event.args else event.args
        try:
            tag_id = int(raw)
        except (TypeError, ValueError):
            return
        self.selected = tag_id
        self.draw()
        await self.show_detail(tag_id)

    async def show_detail(self, tag_id: int) -> None:
        if self.figures is None:
            return
        line = next((x for x in self.figures.lines if x.id == tag_id), None)
        principal = self.page.still_allowed()
        if line is None or principal is None:
            return
        gaps = await run.io_bound(self._read_gaps, principal, [tag_id]) or []
        unit = f" [{line.unit}]" if line.unit else ""
        self.detail_title.set_text(
            f"{line.group_label} · {line.name}{unit} · {line.sampling_ms:,} ms"
        )
        self.detail_days.rows = view.day_rows(self.figures.cells, tag_id, self.figures.days)
        for row in self.detail_days.rows:
            row["key"] = row["day"]
        self.detail_days.update()
        self.detail_gaps.rows = view.gap_rows(gaps, self._names(), self.zone, self.page.lang)
        self.detail_gaps.update()


DAY_COLUMNS: tuple[str, ...] = ("day", "score", "completeness", "validity", "continuity")
DAY_COLUMNS += ("expected", "received", "good", "suspect", "bad", "rejected")
GAP_COLUMNS = ("tag", "start", "end", "duration", "missing", "ongoing")


def _columns(page: PageContext, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Table columns with their i18n labels, the first (a name or a day) left-aligned."""
    return [
        {
            "name": k,
            "label": page.t(f"dq_{k}"),
            "field": k,
            "align": "left" if k == keys[0] else "right",
        }
        for k in keys
    ]


def register(ctx: Context, store: TelemetryStore) -> None:
    @ui.page("/companies/{company_id}/quality")
    def quality_page(request: Request, company_id: int) -> RedirectResponse | None:
        page = viewer(ctx, request)
        if page is None:
            return to_login(request)
        header(page, page.t("dq_title"))
        if not company_heading(page, company_id, "데이터 품질", "Data quality"):
            return None
        screen = QualityPage(page, store, company_id)
        ui.timer(0.2, screen.load, once=True)
        ui.timer(REFRESH_S, screen.load)
        return None
