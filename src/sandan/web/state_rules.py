"""On the OEE page: the state rules of a company's machines that have a power meter but no
state tag, so that a person can give each one its power thresholds (idle kW, run kW, and the
state below idle) and see its OEE, downtime and live state without wiring a state signal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

from sandan.analytics import service as analytics
from sandan.web.shell import PageContext, act, acted, notice

OFF_NAMES = {"planned_stop": ("계획정지", "Planned stop"), "down": ("고장", "Down")}


class StateRulesPanel:
    """One row per power-only machine: its thresholds, saved with `act()`; `changed` runs after
    a rule is saved or removed (the page reloads its figures)."""

    def __init__(self, page: PageContext, company_id: int, changed: Callable[[], None]) -> None:
        self.page, self.company_id, self.changed = page, company_id, changed
        ko = page.lang == "ko"
        ui.label("전력 기준 설비 상태" if ko else "Machine states from power").classes(
            "text-lg font-semibold"
        )
        ui.label(
            "상태 태그가 없는 설비는 1분 평균 전력으로 상태를 정합니다: 가동 기준 이상은 가동, "
            "대기 기준 이상은 대기, 그 아래는 정지 상태(계획정지 또는 고장)입니다."
            if ko
            else "A machine without a state tag takes its state from its mean power: at or "
            "above the run level it is running, at or above the idle level idle, below that "
            "in its off state (planned stop or down)."
        ).classes("text-sm text-slate-600")
        self.rows = ui.column().classes("w-full gap-1").props('id="state-rules"')

    def load(self) -> None:
        machines = act(
            self.page,
            lambda s, p: analytics.power_machines(s, p, self.company_id),
        )
        if machines is None:
            return
        ko = self.page.lang == "ko"
        self.rows.clear()
        with self.rows:
            if not machines:
                ui.label(
                    "전력만 측정하는 설비가 없습니다."
                    if ko
                    else "No machine here has power without a state tag."
                )
            for machine in machines:
                self._row(machine)

    def _row(self, machine: dict[str, Any]) -> None:
        ko = self.page.lang == "ko"
        mid, rule = machine["machine_id"], machine["rule"]
        row = ui.row().classes("w-full items-center gap-3 state-rule")
        row.props(f'data-machine="{mid}"')
        with row:
            with ui.column().classes("w-56 gap-0"):
                ui.label(machine["label"]).classes("text-sm")
                ui.label(machine["line"]).classes("text-xs text-slate-500")
            idle = ui.number(
                "대기 기준 kW" if ko else "Idle from kW", value=rule and rule["idle_kw"]
            )
            idle.props(f'for="rule-idle-{mid}" dense').classes("w-32")
            run = ui.number(
                "가동 기준 kW" if ko else "Running from kW", value=rule and rule["run_kw"]
            )
            run.props(f'for="rule-run-{mid}" dense').classes("w-32")
            off = ui.select(
                {k: v[0 if ko else 1] for k, v in OFF_NAMES.items()},
                value=rule["off_state"] if rule else "planned_stop",
                label="대기 기준 미만" if ko else "Below idle",
            )
            off.props(f'for="rule-off-{mid}" dense').classes("w-36")
            status = "설정됨" if ko else "Set"
            ui.badge(status if rule else ("미설정" if ko else "Not set")).props(
                "color=green-7" if rule else "color=grey-6"
            ).classes("rule-status")

            def save() -> None:
                def kw(value: float | None) -> float:
                    return float("nan") if value is None else float(value)

                saved = act(
                    self.page,
                    lambda s, p: analytics.put_state_rule(
                        s, p, mid, kw(idle.value), kw(run.value), str(off.value)
                    ),
                    "saved",
                    refused=notice,
                )
                if saved is not None:
                    self.load()
                    self.changed()

            def remove() -> None:
                if acted(
                    self.page,
                    lambda s, p: analytics.delete_state_rule(s, p, mid),
                    refused=notice,
                ):
                    self.load()
                    self.changed()

            ui.button("저장" if ko else "Save", on_click=save).props(
                f'id="rule-save-{mid}" dense no-caps'
            )
            if rule:
                ui.button("삭제" if ko else "Remove", on_click=remove).props(
                    f'id="rule-delete-{mid}" dense flat no-caps color=grey-8'
                )
