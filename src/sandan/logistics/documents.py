"""The invoice and the delivery note as CSV and PDF.

PDFs use Noto Sans CJK (Debian's fonts-noto-cjk) when it is installed, so Korean names print;
without it they fall back to the core Helvetica font with non-Latin characters replaced,
which still gives a readable, valid document instead of an error.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF

from sandan.logistics.schemas_out import InvoiceOut, ShipmentOut

CJK_FONTS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJKkr-Regular.otf"),
    Path("/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),
)
KO_INDEX = 1  # in the .ttc collection: JP, KR, SC, TC, HK


class _Doc:
    """An A4 page with one font that can (or honestly cannot) write Hangul."""

    def __init__(self) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.add_page()
        self.unicode = False
        for path in CJK_FONTS:
            if not path.exists():
                continue
            try:
                if path.suffix == ".ttc":
                    self.pdf.add_font("cjk", fname=str(path), collection_font_number=KO_INDEX)
                else:
                    self.pdf.add_font("cjk", fname=str(path))
                self.pdf.set_font("cjk", size=10)
                self.unicode = True
                break
            except Exception:  # a broken font file must not break the bill
                continue
        if not self.unicode:
            self.pdf.set_font("Helvetica", size=10)

    def text(self, value: str) -> str:
        if self.unicode:
            return value
        return value.encode("latin-1", "replace").decode("latin-1")

    def line(self, value: str, size: int = 10, height: float = 6) -> None:
        self.pdf.set_font_size(size)
        self.pdf.cell(0, height, self.text(value), new_x="LMARGIN", new_y="NEXT")

    def table(
        self, head: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]
    ) -> None:
        self.pdf.set_font_size(9)
        for cells in (head, *rows):
            for width, cell in zip(widths, cells, strict=True):
                self.pdf.cell(width, 7, self.text(cell), border=1)
            self.pdf.ln()

    def bytes(self) -> bytes:
        return bytes(self.pdf.output())


def invoice_csv(inv: InvoiceOut) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "owner_company_id",
            "owner",
            "period",
            "kind",
            "description",
            "quantity",
            "unit",
            "rate_krw",
            "amount_krw",
        ]
    )
    for x in inv.lines:
        writer.writerow(
            [
                inv.owner_company_id,
                inv.owner_name,
                inv.period,
                x.kind,
                x.description,
                x.quantity,
                x.unit,
                x.rate_krw,
                x.amount_krw,
            ]
        )
    writer.writerow(
        [inv.owner_company_id, inv.owner_name, inv.period, "total", "", "", "", "", inv.total_krw]
    )
    return out.getvalue()


def invoice_pdf(inv: InvoiceOut) -> bytes:
    doc = _Doc()
    doc.line("창고 이용료 청구서 / Warehouse invoice", size=14, height=9)
    doc.line(f"{inv.owner_name} (#{inv.owner_company_id}) - {inv.period}")
    doc.line("")
    doc.table(
        ["Item", "Quantity", "Unit", "Rate (KRW)", "Amount (KRW)"],
        [
            [x.description, f"{x.quantity:g}", x.unit, f"{x.rate_krw:,}", f"{x.amount_krw:,}"]
            for x in inv.lines
        ],
        [70, 28, 25, 30, 35],
    )
    doc.line("")
    doc.line(f"합계 Total: {inv.total_krw:,} KRW", size=12)
    return doc.bytes()


def delivery_note_pdf(
    shipment: ShipmentOut, owner: str, lines: Sequence[tuple[str, str, str, int]]
) -> bytes:
    doc = _Doc()
    doc.line("거래명세서 / Delivery note", size=14, height=9)
    doc.line(f"Shipment #{shipment.id} - order #{shipment.order_id} - {shipment.ship_date}")
    doc.line(f"From: {owner}")
    doc.line(f"To: {shipment.ship_to}, {shipment.address}")
    window = f"{shipment.window_start:%Y-%m-%d %H:%M}-{shipment.window_end:%H:%M} UTC"
    doc.line(f"Window: {window}  Packages: {shipment.packages}  Weight: {shipment.weight_kg:g} kg")
    doc.line("")
    doc.table(
        ["SKU", "Name", "Lot", "Qty"], [[a, b, c, str(d)] for a, b, c, d in lines], [35, 85, 40, 25]
    )
    doc.line("")
    doc.line("Received by / 인수자: ____________________")
    return doc.bytes()
