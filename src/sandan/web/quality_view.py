"""What the data-quality page reads and how it writes it: the company's numeric tags with their
machine (or device), the heat map of daily scores as server-rendered HTML, and the formats of
shares, counts, durations and times. Kept apart from the page so it reads without NiceGUI."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from sandan.core.identity.principal import Principal
from sandan.registry import service as registry
from sandan.registry.models import Asset, Device, Site, Tag
from sandan.web.i18n import t

ALL = "all"
NO_DATA_COLOUR = "#e2e8f0"
Cells = dict[tuple[int, date], dict[str, Any]]


@dataclass(frozen=True)
class TagLine:
    """One numeric tag of the company, with the machine (or, without one, the device) it
    belongs to: the group the page filters by."""

    id: int
    name: str
    unit: str
    sampling_ms: int
    group: str  # "m<machine id>" or "d<device id>"
    group_label: str


def company_tags(
    session: Session, principal: Principal, company_id: int, lang: str
) -> list[TagLine]:
    """The company's time-series tags the principal may read (str tags are not series)."""
    tags = session.scalars(
        registry.owned_readable(Tag, principal)
        .where(Tag.company_id == company_id, Tag.data_type != "str")
        .order_by(Tag.id)
    ).all()
    device_ids = {tag.device_id for tag in tags if tag.machine_id is None}
    assets = {
        a.id: a
        for a in session.scalars(
            registry.owned_readable(Asset, principal).where(Asset.company_id == company_id)
        )
    }
    sites = {
        site.id: site.name
        for site in session.scalars(
            registry.owned_readable(Site, principal).where(Site.company_id == company_id)
        )
    }
    machine_ids = {tag.machine_id for tag in tags if tag.machine_id in assets}
    machines = {
        m: machine_label(assets, m, sites if len(sites) > 1 else {})
        for m in machine_ids
        if m is not None
    }
    devices = {
        d.id: f"{d.name} ({t('dq_no_machine', lang)})"
        for d in session.scalars(
            registry.owned_readable(Device, principal).where(Device.id.in_(device_ids))
        )
    }
    lines = []
    for tag in tags:
        if tag.machine_id is not None:
            group, label = f"m{tag.machine_id}", machines.get(tag.machine_id, "?")
        else:
            group, label = f"d{tag.device_id}", devices.get(tag.device_id, "?")
        lines.append(TagLine(tag.id, tag.name, tag.unit, tag.sampling_ms, group, label))
    return lines


def machine_label(assets: dict[int, Asset], machine_id: int, sites: dict[int, str]) -> str:
    """The machine's codes from its area down ("A1-L2-M01") and its name, after its site's
    name when the company has several: machine codes repeat from line to line and site to
    site."""
    codes: list[str] = []
    at: int | None = machine_id
    while at is not None and at in assets and len(codes) < 10:
        codes.append(assets[at].code)
        at = assets[at].parent_id
    machine = assets[machine_id]
    site = f"{sites[machine.site_id]} " if machine.site_id in sites else ""
    return f"{site}{'-'.join(reversed(codes))} · {machine.name}"


def groups(lines: Iterable[TagLine], lang: str) -> dict[str, str]:
    """Filter options: every machine (or machine-less device), by label, after "all"."""
    seen = {line.group: line.group_label for line in lines}
    return {ALL: t("dq_all_machines", lang), **dict(sorted(seen.items(), key=lambda kv: kv[1]))}


def mean_score(cells: Cells, tag_id: int, days: list[date]) -> float:
    """The tag's mean daily score over the days shown (a silent day counts as its 0)."""
    scores = [cells[(tag_id, d)]["score"] for d in days if (tag_id, d) in cells]
    return sum(scores) / len(scores) if scores else 0.0


def ordered(lines: list[TagLine], cells: Cells, days: list[date], sort: str) -> list[TagLine]:
    """Worst first (by the mean over the days shown), or by machine then tag name."""
    if sort == "machine":
        return sorted(lines, key=lambda line: (line.group_label, line.name, line.id))
    return sorted(lines, key=lambda line: (mean_score(cells, line.id, days), line.id))


def share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def count(value: float) -> str:
    return f"{value:,.0f}"


def heard(row: dict[str, Any]) -> bool:
    """Whether anything of the tag arrived that day, stored or refused."""
    return bool(row["received"] or row["rejected"])


def colour(row: dict[str, Any]) -> str:
    """Red at 50 and below, through yellow, to green at 100; grey when nothing arrived."""
    if not heard(row):
        return NO_DATA_COLOUR
    hue = max(0.0, min(1.0, (float(row["score"]) - 50.0) / 50.0)) * 120.0
    return f"hsl({hue:.0f}, 75%, 78%)"


def cell_title(row: dict[str, Any], lang: str) -> str:
    """The hover text of a cell: the three shares and the counts behind the score."""

    def tr(key: str) -> str:
        return t(key, lang)

    shares = " · ".join(
        f"{tr('dq_' + k)} {share(row[k])}" for k in ("completeness", "validity", "continuity")
    )
    counts = " · ".join(
        f"{tr('dq_' + k)} {count(row[k])}"
        for k in ("received", "good", "suspect", "bad", "rejected")
    )
    return (
        f"{row['day'].isoformat()} · {tr('dq_score')} {row['score']:.1f}\n{shares}\n"
        f"{counts} ({tr('dq_expected')} {count(row['expected'])})"
    )


def heatmap_html(
    lines: list[TagLine], cells: Cells, days: list[date], lang: str, selected: int | None
) -> str:
    """The tag × day table of scores, one coloured cell per (tag, UTC day)."""
    head = "".join(f"<th class='px-2'>{d.strftime('%m-%d')}</th>" for d in days)
    out = [
        "<table id='dq-heatmap' class='text-sm border-collapse'><thead><tr>",
        f"<th class='text-left px-2'>{escape(t('dq_machine', lang))}</th>",
        f"<th class='text-left px-2'>{escape(t('dq_tag', lang))}</th>{head}",
        f"<th class='px-2'>{escape(t('dq_mean', lang))}</th></tr></thead><tbody>",
    ]
    for line in lines:
        mark = " outline outline-2 outline-slate-700" if line.id == selected else ""
        out.append(
            f"<tr class='dq-row cursor-pointer hover:bg-slate-50{mark}' data-tag='{line.id}'"
            f" data-group='{line.group}'><td class='px-2'>{escape(line.group_label)}</td>"
            f"<td class='px-2 font-mono dq-tag'>{escape(line.name)}</td>"
        )
        for day in days:
            row = cells.get((line.id, day))
            if row is None:
                out.append("<td class='dq-cell text-center px-2'>–</td>")
                continue
            out.append(
                f"<td class='dq-cell text-center px-2 tabular-nums' data-tag='{line.id}'"
                f" data-day='{day.isoformat()}' title='{escape(cell_title(row, lang))}'"
                f" style='background:{colour(row)}'>{row['score']:.1f}</td>"
            )
        out.append(
            f"<td class='dq-mean text-center px-2 font-semibold'>"
            f"{mean_score(cells, line.id, days):.1f}</td></tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


def legend_html(lang: str) -> str:
    swatches = [(f"{s}", colour({"score": s, "received": 1, "rejected": 0})) for s in (50, 75, 100)]
    swatches.append((t("dq_legend_none", lang), NO_DATA_COLOUR))
    return "".join(
        f"<span class='inline-block px-2 mr-1 text-xs' style='background:{c}'>{escape(label)}"
        "</span>"
        for label, c in swatches
    )


def duration(seconds: float, lang: str) -> str:
    """A gap's length the way a person says it: 4.2 s, 21 min 0 s, 3 h 05 min."""
    ko = lang == "ko"
    if seconds < 60:
        return f"{seconds:.1f}{'초' if ko else ' s'}"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}시간 {minutes:02d}분" if ko else f"{hours} h {minutes:02d} min"
    return f"{minutes}분 {secs}초" if ko else f"{minutes} min {secs} s"


def local(moment: datetime, zone: ZoneInfo) -> str:
    """A UTC time (naive or aware) in the plant's time zone."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).strftime("%m-%d %H:%M:%S")


def gap_rows(
    gaps: list[dict[str, Any]], names: dict[int, str], zone: ZoneInfo, lang: str
) -> list[dict[str, Any]]:
    """The gaps as table rows, in the order given (newest first)."""
    return [
        {
            "key": f"{g['tag_id']}-{g['start'].isoformat()}",
            "tag": names.get(g["tag_id"], str(g["tag_id"])),
            "start": local(g["start"], zone),
            "end": "" if g["ongoing"] else local(g["end"], zone),
            "duration": duration(g["seconds"], lang),
            "missing": count(g["missing"]),
            "ongoing": t("dq_yes", lang) if g["ongoing"] else "",
        }
        for g in gaps
    ]


def day_rows(cells: Cells, tag_id: int, days: list[date]) -> list[dict[str, Any]]:
    """One tag's days, newest first, every figure of the score."""
    rows = []
    for day in reversed(days):
        row = cells.get((tag_id, day))
        if row is None:
            continue
        rows.append(
            {
                "day": day.isoformat(),
                "score": f"{row['score']:.1f}",
                **{k: share(row[k]) for k in ("completeness", "validity", "continuity")},
                **{
                    k: count(row[k])
                    for k in ("expected", "received", "good", "suspect", "bad", "rejected")
                },
            }
        )
    return rows
