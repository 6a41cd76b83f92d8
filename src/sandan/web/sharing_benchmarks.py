"""The complex benchmarks page: OEE, energy per good unit and data quality by industry and by
zone, each group's published figures or why it is withheld, and the viewer's own position.

The page only draws what :func:`sandan.sharing.service.benchmarks.dashboard` returns: the
per-company values never leave the service, so the page cannot show them by mistake."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from sandan.core.clock import utcnow
from sandan.core.context import Context
from sandan.core.errors import SandanError
from sandan.registry.validators import KSIC_DIVISIONS
from sandan.sharing.service import benchmarks as bench
from sandan.telemetry.store import TelemetryStore
from sandan.web.i18n import division_name
from sandan.web.oee import plan_of
from sandan.web.shell import PageContext, header, to_login, viewer

WINDOWS = (7, 30, 90)  # days up to and including today
WEIGHT_KEYS = {
    "oee": "bench_weight_busy",
    "kwh_per_good_unit": "bench_weight_good",
    "data_quality": "bench_weight_one",
}


def ordinal(n: int) -> str:
    """English ordinals: 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def figure(metric: bench.Metric, value: float | None) -> str:
    """A benchmark value as the page shows it: OEE in percent, energy in kWh, score 0-100."""
    if value is None:
        return "–"
    if metric == "oee":
        return f"{value:.1%}"
    if metric == "kwh_per_good_unit":
        return f"{value:,.3f}"
    return f"{value:.1f}"


def group_label(page: PageContext, by: bench.Grouping, key: str) -> str:
    if by == "industry":
        return f"{key} · {division_name(key, KSIC_DIVISIONS.get(key, key), page.lang)}"
    return key


def reason_text(page: PageContext, reason: bench.Reason) -> str:
    return reason.message_ko if page.lang == "ko" else reason.message


def place_text(page: PageContext, place: bench.Place) -> str:
    """'Your position: 70th percentile', or why there is none, for one grouping."""
    where = group_label(page, place.by, place.key)
    if place.withheld is not None:
        return f"{where}: {reason_text(page, place.withheld)}"
    if place.percentile is None:
        return f"{where}: {page.t('bench_not_contributing')}"
    n = round(place.percentile)
    shown = str(n) if page.lang == "ko" else ordinal(n)
    return f"{where}: {page.t('bench_percentile').format(n=shown)}"


def _rows(page: PageContext, board: bench.Board) -> list[dict[str, str]]:
    rows = []
    for g in board.groups:
        f = g.figures
        if f is None:
            status = reason_text(page, g.withheld) if g.withheld else ""
        else:
            status = page.t("bench_noisy" if f.noisy else "bench_published")
        rows.append(
            {
                "key": g.key,
                "group": group_label(page, g.by, g.key),
                "contributors": str(g.contributors),
                "mean": figure(g.metric, f.mean if f else None),
                "p25": figure(g.metric, f.p25 if f else None),
                "median": figure(g.metric, f.median if f else None),
                "p75": figure(g.metric, f.p75 if f else None),
                "status": status,
            }
        )
    return rows


# Share of the table's width per column: the industry and zone tables of a metric line up.
WIDTHS = {"group": 30, "contributors": 8, "mean": 8, "p25": 8, "median": 8, "p75": 8, "status": 30}


def _columns(page: PageContext) -> list[dict[str, str]]:
    return [
        {
            "name": n,
            "label": page.t(f"bench_{n}"),
            "field": n,
            "align": "left" if n in ("group", "status") else "right",
            "headerStyle": f"width: {share}%",
            # a withheld group's reason is a sentence: it wraps rather than leaves the card
            "classes": "whitespace-normal",
        }
        for n, share in WIDTHS.items()
    ]


def register(ctx: Context, store: TelemetryStore) -> None:
    @ui.page("/sharing/benchmarks")
    def benchmarks_page(request: Request) -> RedirectResponse | None:
        page = viewer(ctx, request)
        if page is None:
            return to_login(request)
        header(page, page.t("bench_title"))
        policy = bench.Policy.of(ctx.settings)
        with ui.row().classes("items-center gap-4"):
            ui.link(f"← {page.t('bench_back')}", "/sharing").classes("text-sm")
            ui.label(page.t("bench_title")).classes("text-2xl font-bold")
        ui.label(
            page.t("bench_intro").format(k=policy.k, share=f"{policy.dominance_share:.0%}")
        ).classes("text-slate-600 max-w-4xl")
        window = ui.toggle(
            {n: page.t("bench_window_days").format(n=n) for n in WINDOWS}, value=WINDOWS[0]
        ).props('id="bench-window"')
        tables: dict[tuple[str, str], ui.table] = {}
        places: dict[str, ui.label] = {}
        for metric in bench.METRIC_CODES:
            with ui.card().classes("w-full").props(f'id="bench-{metric}"'):
                with ui.row().classes("items-baseline gap-3"):
                    ui.label(page.t(f"bench_metric_{metric}")).classes("text-lg font-semibold")
                    ui.label(page.t(WEIGHT_KEYS[metric])).classes("text-sm text-slate-500")
                places[metric] = (
                    ui.label("").classes("text-base").props(f'id="bench-{metric}-position"')
                )
                with ui.column().classes("w-full gap-2"):
                    for by in bench.GROUPINGS:
                        with ui.column().classes("w-full gap-1"):
                            ui.label(page.t(f"bench_by_{by}")).classes("font-medium")
                            tables[(metric, by)] = (
                                ui.table(columns=_columns(page), rows=[], row_key="key")
                                .classes("w-full")
                                .props(
                                    f'id="bench-{metric}-{by}" dense flat '
                                    'table-style="table-layout: fixed"'
                                )
                            )

        def load() -> None:
            principal = page.still_allowed()
            if principal is None:
                ui.navigate.to("/login")
                return
            today = utcnow().date()
            days = int(window.value)
            span = bench.Window(today - timedelta(days=days - 1), today)
            try:
                with ctx.db.unit(principal) as session:
                    boards = bench.dashboard(
                        session, principal, store, plan_of(ctx), span, bench.Policy.of(ctx.settings)
                    )
            except SandanError as exc:
                ui.notify(str(exc), type="warning")
                return
            mine: dict[str, list[str]] = {}
            for board in boards:
                table = tables[(board.metric, board.by)]
                table.rows = _rows(page, board)
                table.props(f'no-data-label="{page.t("bench_none")}"')
                table.update()
                if board.place is not None:
                    mine.setdefault(board.metric, []).append(place_text(page, board.place))
            for metric, label in places.items():
                found = mine.get(metric)
                label.set_text(f"{page.t('bench_position')} · {' / '.join(found)}" if found else "")

        window.on_value_change(lambda _: load())
        ui.timer(0.3, load, once=True)
        return None
