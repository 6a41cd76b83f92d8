"""The contract terms people set by hand: purpose, days valid, number of pulls, coarsest
resolution and no redistribution. Publishing builds a policy from them; a counter-offer edits
them on the policy under negotiation and keeps every other rule of it as it was, so a page
never drops a condition it does not know how to show."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from nicegui import ui

from sandan.sharing import policy as odrl
from sandan.web.sharing_ui import purpose_options
from sandan.web.shell import PageContext

DAY = 86_400
RESOLUTIONS = (0, 60, 3600, 86_400)  # seconds; 0 is raw readings
_USE, _DISTRIBUTE = odrl.Action.use, odrl.Action.distribute
# the (operand, operator) pairs the form edits; any other constraint passes through untouched
_PURPOSE = (odrl.Operand.purpose, odrl.Operator.eq)
_DAYS = (odrl.Operand.elapsed_time, odrl.Operator.lteq)
_PULLS = (odrl.Operand.count, odrl.Operator.lteq)
_RESOLUTION = (odrl.Operand.resolution, odrl.Operator.gteq)
_EDITED = frozenset({_PURPOSE, _DAYS, _PULLS, _RESOLUTION})


def new_uid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


@dataclass(frozen=True)
class Terms:
    """None (or 0 resolution) means no such limit."""

    purpose: str | None = None
    days: int | None = None
    max_pulls: int | None = None
    min_resolution: int = 0
    no_redistribution: bool = True

    @classmethod
    def of(cls, policy: odrl.Policy) -> Terms:
        """The editable terms of a policy: read from its first permission to use."""
        found: dict[tuple[odrl.Operand, odrl.Operator], object] = {}
        use = next((p for p in policy.permissions if p.action is _USE), None)
        for c in use.constraints if use else ():
            found.setdefault((c.left, c.operator), c.right)
        days = found.get(_DAYS)
        return cls(
            purpose=_text(found.get(_PURPOSE)),
            days=max(1, int(days) // DAY) if isinstance(days, int) else None,
            max_pulls=_number(found.get(_PULLS)),
            min_resolution=_number(found.get(_RESOLUTION)) or 0,
            no_redistribution=any(
                p.action is _DISTRIBUTE and not p.constraints for p in policy.prohibitions
            ),
        )

    def constraints(self) -> list[odrl.Constraint]:
        c = odrl.Constraint
        made: list[odrl.Constraint] = []
        if self.purpose:
            made.append(c(left=_PURPOSE[0], operator=_PURPOSE[1], right=self.purpose))
        if self.days:
            made.append(c(left=_DAYS[0], operator=_DAYS[1], right=self.days * DAY))
        if self.max_pulls:
            made.append(c(left=_PULLS[0], operator=_PULLS[1], right=self.max_pulls))
        if self.min_resolution:
            made.append(c(left=_RESOLUTION[0], operator=_RESOLUTION[1], right=self.min_resolution))
        return made

    def policy(self, base: odrl.Policy | None = None, recipient: int | None = None) -> odrl.Policy:
        """These terms on `base` (a fresh policy when None), under a new uid; `recipient`
        limits use to one company, as the offer's access policy limits who sees it."""
        kept: list[odrl.Constraint] = []
        duties: tuple[odrl.Duty, ...] = ()
        others: list[odrl.Permission] = []
        if base is not None:
            use = next((p for p in base.permissions if p.action is _USE), None)
            if use is not None:
                kept = [c for c in use.constraints if (c.left, c.operator) not in _EDITED]
                duties = use.duties
            others = [p for p in base.permissions if p is not use]
        if recipient is not None and not any(c.left is odrl.Operand.recipient for c in kept):
            kept.insert(
                0,
                odrl.Constraint(
                    left=odrl.Operand.recipient, operator=odrl.Operator.eq, right=recipient
                ),
            )
        use_rule = odrl.Permission(
            action=_USE, constraints=(*self.constraints(), *kept), duties=duties
        )
        prohibitions = [
            p
            for p in (base.prohibitions if base else ())
            if not (p.action is _DISTRIBUTE and not p.constraints)
        ]
        if self.no_redistribution:
            prohibitions.append(odrl.Prohibition(action=_DISTRIBUTE))
        return odrl.Policy(
            uid=new_uid(),
            permissions=(use_rule, *others),
            prohibitions=tuple(prohibitions),
            obligations=base.obligations if base else (),
        )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class TermsForm:
    """Inputs for `Terms`; `prefix` keeps element ids apart when two forms share a page."""

    def __init__(self, page: PageContext, terms: Terms, prefix: str) -> None:
        t = page.t
        purposes = {"": t("sharing_any_purpose"), **purpose_options(page.lang)}
        resolutions = {r: t(f"sharing_resolution_{r}") for r in RESOLUTIONS}
        with ui.column().classes("gap-2 w-full"):
            self.purpose = (
                ui.select(purposes, value=terms.purpose or "", label=t("sharing_purpose"))
                .classes("w-80")
                .props(f'id="{prefix}-purpose"')
            )
            with ui.row().classes("gap-4"):
                self.days = (
                    ui.number(
                        t("sharing_days_valid"), value=terms.days, min=1, max=3650, precision=0
                    )
                    .classes("w-48")
                    .props(f'for="{prefix}-days" clearable')
                )
                self.pulls = (
                    ui.number(t("sharing_max_pulls"), value=terms.max_pulls, min=1, precision=0)
                    .classes("w-48")
                    .props(f'for="{prefix}-pulls" clearable')
                )
            self.resolution = (
                ui.select(
                    resolutions, value=terms.min_resolution, label=t("sharing_min_resolution")
                )
                .classes("w-80")
                .props(f'id="{prefix}-resolution"')
            )
            self.no_redistribution = ui.checkbox(
                t("sharing_no_redistribution"), value=terms.no_redistribution
            ).props(f'id="{prefix}-no-redistribution"')
            ui.label(t("sharing_blank_is_unlimited")).classes("text-xs text-slate-500")

    def value(self) -> Terms:
        return Terms(
            purpose=str(self.purpose.value or "") or None,
            days=_whole(self.days.value),
            max_pulls=_whole(self.pulls.value),
            min_resolution=int(self.resolution.value or 0),
            no_redistribution=bool(self.no_redistribution.value),
        )


def _whole(value: object) -> int | None:
    """A number input's value as a positive whole number; blank or zero is no limit."""
    if isinstance(value, int | float) and value >= 1:
        return int(value)
    return None
