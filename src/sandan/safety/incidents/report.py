"""The closing report of an incident: Markdown, HTML, the timeline as CSV, and a PDF when a
Korean font is installed (fonts-noto-cjk or Nanum). Without one the PDF still renders, with
the text the built-in font can show, and says where the full report is."""

from __future__ import annotations

import csv
import functools
import html
import io
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog
from fpdf import FPDF

from sandan.core.clock import as_utc
from sandan.safety.incidents.schemas import SEVERITY_NAMES, IncidentDetail

log = structlog.get_logger(__name__)
KST = ZoneInfo("Asia/Seoul")
_KNOWN_FONTS = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 1),  # index 1: the KR face
    ("/usr/share/fonts/truetype/nanum/NanumGothic.ttf", 0),
)

WORDS: dict[str, tuple[str, str]] = {
    "report": ("사고 종료 보고서", "Incident closing report"),
    "kind": ("유형", "Type"),
    "severity": ("심각도", "Severity"),
    "status": ("상태", "Status"),
    "commander": ("현장 지휘관", "Commander"),
    "place": ("위치 / 반경", "Location / radius"),
    "opened": ("발생", "Opened"),
    "closed": ("종료", "Closed"),
    "summary": ("요약", "Summary"),
    "alarms": ("연계 경보", "Linked alarms"),
    "affected": ("영향 기업", "Affected companies"),
    "materials": ("유해화학물질", "Hazardous materials"),
    "contacts": ("비상연락처", "Emergency contacts"),
    "timeline": ("경과", "Timeline"),
    "tasks": ("조치 사항", "Tasks"),
    "done": ("완료", "done"),
    "open": ("진행 중", "open"),
    "none": ("없음", "none"),
    "no_font": (
        "한글 글꼴이 없어 일부 글자가 빠졌습니다. HTML 보고서를 보십시오.",
        "No Korean font is installed, so some characters are missing; see the HTML report.",
    ),
}


def _w(key: str, lang: str) -> str:
    ko, en = WORDS[key]
    return ko if lang == "ko" else en


def _when(moment: datetime | None) -> str:
    return "" if moment is None else as_utc(moment).astimezone(KST).strftime("%Y-%m-%d %H:%M:%S")


def report_lines(detail: IncidentDetail, lang: str = "ko") -> list[tuple[str, str]]:
    """The report as (style, text) lines: h1, h2, p, li. Every format is drawn from these."""
    inc = detail.incident
    lines: list[tuple[str, str]] = [("h1", f"{_w('report', lang)} #{inc.id}: {inc.title}")]
    facts = [
        (_w("kind", lang), inc.kind),
        (_w("severity", lang), f"{inc.severity} ({SEVERITY_NAMES[inc.severity]})"),
        (_w("status", lang), inc.status),
        (_w("commander", lang), detail.commander_name or "—"),
        (_w("place", lang), f"{inc.lat:.5f}, {inc.lon:.5f} / {inc.radius_m:g} m"),
        (_w("opened", lang), f"{_when(inc.opened_at)} KST ({inc.opened_by})"),
        (_w("closed", lang), f"{_when(inc.closed_at)} KST" if inc.closed_at else "—"),
    ]
    lines += [("li", f"{k}: {v}") for k, v in facts]
    lines += [("h2", _w("summary", lang)), ("p", inc.summary or "—")]
    lines.append(("h2", _w("alarms", lang)))
    lines += [("li", f"#{a.id} {a.priority} {a.text}".strip()) for a in detail.alarms] or [
        ("p", _w("none", lang))
    ]
    lines.append(("h2", f"{_w('affected', lang)} ({len(detail.affected)})"))
    for company in detail.affected:
        lines.append(("h3", f"{company.company_name} — {company.distance_m:,.0f} m"))
        for m in company.materials:
            classes = " ".join(m.hazard_classes)
            lines.append(
                ("li", f"{m.name} (CAS {m.cas}) {m.quantity:g} {m.unit} {classes}".strip())
            )
        for c in company.contacts:
            lines.append(("li", f"☎ {c.call_order}. {c.name} {c.role} {c.phone} {c.email}".strip()))
    lines.append(("h2", _w("tasks", lang)))
    lines += [
        ("li", f"[{_w('done' if t.done else 'open', lang)}] {t.title} — {t.assignee or '—'}")
        for t in detail.tasks
    ] or [("p", _w("none", lang))]
    lines.append(("h2", _w("timeline", lang)))
    lines += [
        ("li", f"{_when(e.at)} {e.kind} · {e.author}: {e.text}".rstrip(": "))
        for e in detail.timeline
    ]
    return lines


def report_markdown(detail: IncidentDetail, lang: str = "ko") -> str:
    """The report as Markdown."""
    prefix = {"h1": "# ", "h2": "\n## ", "h3": "\n### ", "li": "- ", "p": ""}
    return "\n".join(prefix[style] + text for style, text in report_lines(detail, lang)) + "\n"


def report_html(detail: IncidentDetail, lang: str = "ko") -> str:
    """The report as a standalone HTML page (printable from a browser)."""
    body: list[str] = []
    in_list = False
    for style, text in report_lines(detail, lang):
        if style == "li" and not in_list:
            body.append("<ul>")
        if style != "li" and in_list:
            body.append("</ul>")
        in_list = style == "li"
        body.append(f"<{style}>{html.escape(text)}</{style}>")
    if in_list:
        body.append("</ul>")
    title = html.escape(f"{_w('report', lang)} #{detail.incident.id}")
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
        "<style>body{font-family:sans-serif;max-width:52rem;margin:2rem auto}</style></head>"
        f"<body>{''.join(body)}</body></html>"
    )


def timeline_csv(detail: IncidentDetail) -> str:
    """The timeline as CSV: at (UTC, ISO 8601), kind, author, text."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "kind", "author", "text"])
    for entry in detail.timeline:
        writer.writerow([as_utc(entry.at).isoformat(), entry.kind, entry.author, entry.text])
    return out.getvalue()


@functools.lru_cache(maxsize=1)
def korean_font() -> tuple[str, int] | None:
    """A font file (and face index) with Hangul: fontconfig's answer, else a known path."""
    if shutil.which("fc-list"):
        try:
            listed = subprocess.run(
                ["fc-list", ":lang=ko", "file", "index", "style"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            ).stdout.splitlines()
        except (OSError, subprocess.SubprocessError):
            listed = []
        found = sorted(
            (_font_rank(line), line.split(":")[0].strip(), _index(line)) for line in listed
        )
        usable = [
            (path, index) for _, path, index in found if path.endswith((".ttf", ".otf", ".ttc"))
        ]
        if usable:
            return usable[0]
    for path, index in _KNOWN_FONTS:
        if Path(path).exists():
            return path, index
    return None


def _index(line: str) -> int:
    for part in line.split(":"):
        if part.startswith("index="):
            return int(part.removeprefix("index=").split(",")[0] or 0)
    return 0


def _font_rank(line: str) -> int:
    # prefer a regular sans face: NotoSansCJK-Regular, then Nanum Gothic, then anything
    score = 0 if "Sans" in line or "Gothic" in line else 2
    return score + (0 if "Regular" in line else 1)


def report_pdf(detail: IncidentDetail, lang: str = "ko") -> bytes:
    """The report as PDF, in a Korean font when one is installed."""
    pdf = FPDF()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    font = korean_font()
    family = "helvetica"
    if font is not None:
        try:
            pdf.add_font("korean", fname=font[0], collection_font_number=font[1])
            family = "korean"
        except Exception as exc:  # a broken or unsupported font file: fall back, never fail
            log.warning("incident_report.font_unusable", font=font[0], error=str(exc)[:200])
    sizes = {"h1": 16, "h2": 13, "h3": 11, "li": 10, "p": 10}

    def draw(style: str, text: str) -> None:
        if family == "helvetica":
            text = text.encode("latin-1", "replace").decode("latin-1")
        pdf.set_font(family, size=sizes[style])
        if style in ("h2", "h3"):
            pdf.ln(2)
        pdf.multi_cell(
            0,
            sizes[style] * 0.55,
            ("• " if style == "li" and family != "helvetica" else "") + text,
            new_x="LMARGIN",
            new_y="NEXT",
        )

    if family == "helvetica":
        draw("p", WORDS["no_font"][1])
    for style, text in report_lines(detail, lang):
        draw(style, text)
    return bytes(pdf.output())


def render(detail: IncidentDetail, fmt: str, lang: str = "ko") -> bytes:
    """The report in one of the formats: md, html, csv (the timeline) or pdf."""
    if fmt == "pdf":
        return report_pdf(detail, lang)
    if fmt == "csv":
        return timeline_csv(detail).encode("utf-8-sig")  # with a BOM, so Excel reads Hangul
    if fmt == "html":
        return report_html(detail, lang).encode()
    return report_markdown(detail, lang).encode()
