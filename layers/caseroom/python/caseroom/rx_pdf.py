"""The Rx script PDF: a dental laboratory prescription, laid out with fpdf2.

Every name and description prints exactly as typed: the fonts are embedded (subsetted to the
glyphs used) and text is shaped with HarfBuzz (Arabic joining, right-to-left runs ordered by
the Unicode bidi algorithm).

Fonts (layers/documents/fonts, with their licences; in Lambda the documents layer's /opt/fonts):
- DejaVu Sans, regular and bold, for Latin with its diacritics, Greek, Cyrillic, Hebrew and
  Arabic in ONE font. One font on purpose: fpdf2 2.8.9 drops text when a line mixes a
  right-to-left run in a fallback font with text in the main font (seen with Noto Sans plus
  Noto Sans Hebrew/Arabic as fallbacks; tests/unit/test_rx_pdf.py covers those lines).
- Noto Sans CJK SC (the Simplified Chinese face of Noto Sans CJK: 20,976 of the 20,992 CJK
  Unified Ideographs, 6,582 of Extension A's 6,592, 2,108 of Extension B, kana, all 11,172
  Hangul syllables) as the fallback for characters DejaVu lacks. Han characters print in
  their Simplified Chinese glyph forms (the same characters; Japanese and Traditional forms
  of a few differ in detail). It is 16 MB and parsing it costs ~0.3 s, so it is only
  loaded when the document has a CJK character.

A character no embedded font has is never printed as a blank box silently: the script then
opens with a warning naming its code points.

fpdf2 (and Pillow, fontTools, uharfbuzz, segno under it) is imported when a document is
rendered, never at import time: only the rx_script function renders.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from caseroom.cases.teeth import FDI_TO_UNIVERSAL

LAMBDA_FONTS_DIR = Path("/opt/fonts")
# In the repository (tests, the local runtime): layers/documents/fonts beside this layer.
REPO_FONTS_DIR = Path(__file__).resolve().parents[2].parent / "documents" / "fonts"

MAIN_FONT = "DejaVuSans"


@dataclass(frozen=True)
class FallbackFont:
    family: str
    file: str
    ranges: tuple[tuple[int, int], ...]  # the code points that make the document need this font

    def needed_by(self, text: str) -> bool:
        return any(lo <= ord(ch) <= hi for ch in text for lo, hi in self.ranges)


FALLBACK_FONTS = (
    FallbackFont(
        "NotoSansCJK",
        "NotoSansCJKsc-Regular.otf",
        (
            (0x1100, 0x11FF),  # Hangul Jamo
            (0x2E80, 0x2FDF),  # CJK radicals
            (0x3000, 0x30FF),  # CJK punctuation, Hiragana, Katakana
            (0x3100, 0x31FF),  # Bopomofo, Hangul compatibility Jamo, Katakana extensions
            (0x3200, 0x4DBF),  # enclosed CJK, compatibility, Extension A
            (0x4E00, 0x9FFF),  # CJK Unified Ideographs
            (0xAC00, 0xD7AF),  # Hangul syllables
            (0xF900, 0xFAFF),  # CJK compatibility ideographs
            (0xFF00, 0xFFEF),  # half- and full-width forms
            (0x20000, 0x3134F),  # Extensions B-G
        ),
    ),
)


def fonts_dir() -> Path:
    return LAMBDA_FONTS_DIR if LAMBDA_FONTS_DIR.is_dir() else REPO_FONTS_DIR


@dataclass(frozen=True)
class RxDocument:
    """What the Rx script prints. The optional fields are printed when given (clinic and lab
    details come from the clinic's and lab's records; shade and material from the Rx)."""

    case_id: str
    case_url: str  # the QR code links here
    patient_name: str
    clinician_name: str
    case_type: str
    teeth: Sequence[str]  # FDI numbers
    tooth_notation: str  # FDI | UNIVERSAL: the chart and the list are printed in it
    description: str
    submitted_at: str  # ISO 8601 instant (UTC)
    last_modified: str  # ISO 8601 instant (UTC)
    due_date: str | None = None  # YYYY-MM-DD (a date, already the lab's calendar day)
    clinic_name: str | None = None
    clinic_address: str | None = None
    clinician_licence: str | None = None
    clinic_timezone: str | None = None  # IANA zone; UTC when unknown
    lab_name: str | None = None
    shade: str | None = None
    material: str | None = None
    notes: str | None = None

    def texts(self) -> Iterable[str]:
        """Every user-supplied string, to choose the fonts the document needs."""
        for value in (
            self.patient_name,
            self.clinician_name,
            self.description,
            self.clinic_name,
            self.clinic_address,
            self.clinician_licence,
            self.lab_name,
            self.shade,
            self.material,
            self.notes,
        ):
            if value:
                yield value


# --- tooth chart ----------------------------------------------------------------------------

# Rows as the lab reads a chart: the patient's right on the left of the page.
UPPER_PERMANENT = [f"1{n}" for n in range(8, 0, -1)] + [f"2{n}" for n in range(1, 9)]
LOWER_PERMANENT = [f"4{n}" for n in range(8, 0, -1)] + [f"3{n}" for n in range(1, 9)]
UPPER_PRIMARY = [f"5{n}" for n in range(5, 0, -1)] + [f"6{n}" for n in range(1, 6)]
LOWER_PRIMARY = [f"8{n}" for n in range(5, 0, -1)] + [f"7{n}" for n in range(1, 6)]


def tooth_label(fdi: str, notation: str) -> str:
    return FDI_TO_UNIVERSAL[fdi] if notation == "UNIVERSAL" else fdi


def chart_rows(teeth: Sequence[str]) -> list[list[str]]:
    """The permanent dentition always; the primary rows when a primary tooth is selected."""
    rows = [UPPER_PERMANENT, LOWER_PERMANENT]
    if any(t[0] in "5678" for t in teeth):
        rows = [UPPER_PERMANENT, UPPER_PRIMARY, LOWER_PRIMARY, LOWER_PERMANENT]
    return rows


# --- dates ----------------------------------------------------------------------------------


def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(instant: str, zone: ZoneInfo) -> str:
    moment = datetime.fromisoformat(instant.replace("Z", "+00:00")).astimezone(zone)
    return f"{moment:%Y-%m-%d %H:%M} {moment.tzname()}"


def long_date(day: str) -> str:
    parsed = date.fromisoformat(day)
    return f"{parsed:%a} {parsed.isoformat()}"


# --- rendering ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """A rectangle on a page, in mm from the page's top left corner."""

    page: int  # 1-based
    x: float
    y: float
    w: float
    h: float


@dataclass
class Layout:
    """Where the renderer put the QR code and each tooth of the chart (tests look there)."""

    page_size: tuple[float, float] = (210.0, 297.0)
    qr: Box | None = None
    teeth: dict[str, Box] = field(default_factory=dict)
    pages: int = 0


PAGE_MARGIN = 15.0  # mm
LABEL_WIDTH = 34.0
INK = (20, 20, 20)
MUTED = (95, 95, 95)
MARK = (25, 70, 150)


def render(document: RxDocument) -> bytes:
    return render_with_layout(document)[0]


def render_with_layout(document: RxDocument) -> tuple[bytes, Layout]:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    folder = fonts_dir()
    title = f"Rx script {document.case_id}"

    class RxPDF(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(MAIN_FONT, size=8)
            self.set_text_color(*MUTED)
            self.cell(0, 5, f"{title} \u00b7 page {self.page_no()} of {{nb}}", align="C")

    pdf = RxPDF(format="A4", unit="mm")
    layout = Layout(page_size=(pdf.w, pdf.h))
    pdf.set_title(title)
    pdf.set_creator("CaseRoom")
    pdf.set_margins(PAGE_MARGIN, PAGE_MARGIN, PAGE_MARGIN)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_font(MAIN_FONT, "", str(folder / "DejaVuSans.ttf"))
    pdf.add_font(MAIN_FONT, "B", str(folder / "DejaVuSans-Bold.ttf"))
    text = "\n".join(document.texts())
    fallbacks = [font for font in FALLBACK_FONTS if font.needed_by(text)]
    for font in fallbacks:
        pdf.add_font(font.family, "", str(folder / font.file))
    # exact_match=False: bold text in a script without a bold face prints in its regular face.
    pdf.set_fallback_fonts([font.family for font in fallbacks], exact_match=False)
    pdf.set_text_shaping(True)
    pdf.add_page()
    width = pdf.epw
    cmaps = [font.cmap for font in pdf.fonts.values() if hasattr(font, "cmap")]
    unprintable = unprintable_characters(text, cmaps)

    # Header: title, case id, QR code to the case.
    qr_size = 30.0
    top = pdf.get_y()
    _qr(pdf, document.case_url, pdf.w - PAGE_MARGIN - qr_size, top, qr_size)
    layout.qr = Box(pdf.page_no(), pdf.w - PAGE_MARGIN - qr_size, top, qr_size, qr_size)
    pdf.set_text_color(*INK)
    pdf.set_font(MAIN_FONT, "B", 17)
    pdf.cell(
        width - qr_size - 4, 9, "Dental laboratory prescription (Rx)", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.set_font(MAIN_FONT, "B", 12)
    pdf.cell(width - qr_size - 4, 7, f"Case {document.case_id}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(MAIN_FONT, "", 8)
    pdf.set_text_color(*MUTED)
    pdf.cell(width - qr_size - 4, 5, "Scan the code to open the case", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(pdf.get_y(), top + qr_size) + 3)

    if unprintable:
        # Never a silent blank box on a prescription: say which characters are missing.
        pdf.set_fill_color(255, 236, 236)
        pdf.set_text_color(150, 0, 0)
        pdf.set_font(MAIN_FONT, "B", 9.5)
        codes = ", ".join(f"U+{ord(ch):04X}" for ch in unprintable)
        pdf.multi_cell(
            width,
            5.5,
            f"Warning: some characters of this case cannot be printed with the fonts available "
            f"({codes}). Check the names and the description in CaseRoom before you start work.",
            fill=True,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.ln(1)

    zone = zone_of(document.clinic_timezone)
    _section(pdf, "Prescriber")
    _field(pdf, "Clinic", document.clinic_name)
    _field(pdf, "Clinician", document.clinician_name)
    _field(pdf, "Address", document.clinic_address)
    _field(pdf, "Licence no.", document.clinician_licence)
    _section(pdf, "Laboratory")
    _field(pdf, "Lab", document.lab_name)
    _section(pdf, "Case")
    _field(pdf, "Patient", document.patient_name, bold=True)
    _field(pdf, "Case type", document.case_type.replace("_", " "))
    notation = "Universal" if document.tooth_notation == "UNIVERSAL" else "FDI"
    labels = ", ".join(tooth_label(t, document.tooth_notation) for t in document.teeth)
    _field(pdf, f"Teeth ({notation})", labels, bold=True)
    _field(pdf, "Shade", document.shade)
    _field(pdf, "Material", document.material)
    _field(pdf, "Submitted", local_time(document.submitted_at, zone))
    _field(pdf, "Last modified", local_time(document.last_modified, zone))
    _field(pdf, "Due (ship) date", long_date(document.due_date) if document.due_date else "not set")
    _field(pdf, "Time zone", zone.key)

    _section(pdf, f"Tooth chart ({notation}; the patient's right on the left)")
    _tooth_chart(pdf, document, layout)

    _section(pdf, "Description")
    pdf.set_font(MAIN_FONT, "", 10.5)
    pdf.set_text_color(*INK)
    pdf.multi_cell(width, 5.5, document.description or "-", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if document.notes:
        _section(pdf, "Notes")
        pdf.set_font(MAIN_FONT, "", 10.5)
        pdf.set_text_color(*INK)
        pdf.multi_cell(width, 5.5, document.notes, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # Signature: kept whole on one page.
    if pdf.get_y() + 28 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(14)
    y = pdf.get_y()
    pdf.set_draw_color(*INK)
    pdf.line(PAGE_MARGIN, y, PAGE_MARGIN + 95, y)
    pdf.line(PAGE_MARGIN + 110, y, PAGE_MARGIN + width, y)
    pdf.set_font(MAIN_FONT, "", 8.5)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(PAGE_MARGIN, y + 1)
    pdf.cell(95, 4, f"Signature of the prescribing clinician ({document.clinician_name})")
    pdf.set_xy(PAGE_MARGIN + 110, y + 1)
    pdf.cell(width - 110, 4, "Date")
    body = bytes(pdf.output())
    layout.pages = pdf.page_no()
    return body, layout


def unprintable_characters(text: str, cmaps: Iterable[dict[int, Any]]) -> list[str]:
    """Characters of `text` no loaded font has a glyph for (controls and spaces aside)."""
    tables = list(cmaps)
    missing: dict[str, None] = {}
    for ch in text:
        if ch.isspace() or not ch.isprintable() or ch in missing:
            continue
        if not any(ord(ch) in table for table in tables):
            missing[ch] = None
    return list(missing)


def _qr(pdf: Any, url: str, x: float, y: float, size: float) -> None:
    """The QR code drawn as vector squares (no image library, sharp at any zoom)."""
    import segno

    code = segno.make_qr(url, error="m")
    matrix = code.matrix
    quiet = 2  # modules of white border inside `size` (the page margin adds more)
    modules = len(matrix) + 2 * quiet
    unit = size / modules
    pdf.set_fill_color(0, 0, 0)
    for row_index, row in enumerate(matrix):
        start: int | None = None
        for col_index, dark in enumerate([*row, 0]):
            if dark and start is None:
                start = col_index
            elif not dark and start is not None:
                pdf.rect(
                    x + (quiet + start) * unit,
                    y + (quiet + row_index) * unit,
                    (col_index - start) * unit,
                    unit,
                    style="F",
                )
                start = None


def _section(pdf: Any, heading: str) -> None:
    from fpdf.enums import XPos, YPos

    if pdf.get_y() + 16 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(2.5)
    pdf.set_font(MAIN_FONT, "B", 10.5)
    pdf.set_text_color(*MARK)
    pdf.cell(pdf.epw, 6, heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    y = pdf.get_y()
    pdf.set_draw_color(*MARK)
    pdf.line(PAGE_MARGIN, y, PAGE_MARGIN + pdf.epw, y)
    pdf.ln(1.2)


def _field(pdf: Any, label: str, value: str | None, bold: bool = False) -> None:
    from fpdf.enums import XPos, YPos

    if not value:
        return
    pdf.set_font(MAIN_FONT, "", 9)
    pdf.set_text_color(*MUTED)
    pdf.cell(LABEL_WIDTH, 5.5, label)
    pdf.set_font(MAIN_FONT, "B" if bold else "", 10.5)
    pdf.set_text_color(*INK)
    pdf.multi_cell(pdf.epw - LABEL_WIDTH, 5.5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _tooth_chart(pdf: Any, document: RxDocument, layout: Layout) -> None:
    selected = set(document.teeth)
    rows = chart_rows(document.teeth)
    box = min(10.5, (pdf.epw - 4) / 16)
    gap = 4.0  # between the patient's right and left halves
    row_height = box + 1.5
    needed = len(rows) * row_height + 10
    if pdf.get_y() + needed > pdf.page_break_trigger:
        pdf.add_page()
    top = pdf.get_y() + 1
    pdf.set_font(MAIN_FONT, "", 7.5)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(PAGE_MARGIN, top)
    pdf.cell(16 * box / 2, 4, "patient's right (R)")
    pdf.set_xy(PAGE_MARGIN + 8 * box + gap, top)
    pdf.cell(8 * box, 4, "patient's left (L)", align="R")
    top += 5
    for row_index, row in enumerate(rows):
        y = top + row_index * row_height
        if len(rows) == 4 and row_index >= 2:
            y += 3  # space between the upper and the lower arch
        elif len(rows) == 2 and row_index == 1:
            y += 3
        offset = (16 - len(row)) / 2 * box  # primary rows (10 teeth) are centred
        for col_index, fdi in enumerate(row):
            x = PAGE_MARGIN + offset + col_index * box + (gap if col_index >= len(row) // 2 else 0)
            marked = fdi in selected
            layout.teeth[fdi] = Box(pdf.page_no(), x, y, box, box)
            pdf.set_line_width(0.3)
            pdf.set_draw_color(*INK)
            if marked:
                pdf.set_fill_color(*MARK)
                pdf.rect(x, y, box, box, style="DF")
                pdf.set_text_color(255, 255, 255)
                pdf.set_font(MAIN_FONT, "B", 8.5)
            else:
                pdf.rect(x, y, box, box, style="D")
                pdf.set_text_color(*MUTED)
                pdf.set_font(MAIN_FONT, "", 8)
            pdf.set_xy(x, y)
            pdf.cell(box, box, tooth_label(fdi, document.tooth_notation), align="C")
    bottom = top + len(rows) * row_height + 3
    midline = PAGE_MARGIN + 8 * box + gap / 2
    pdf.set_draw_color(*MUTED)
    pdf.line(midline, top - 1, midline, bottom - 2)
    pdf.set_y(bottom + 1)
    pdf.set_font(MAIN_FONT, "", 8)
    pdf.set_text_color(*MUTED)
    pdf.cell(pdf.epw, 4, "Filled: teeth in this prescription. Upper arch above, lower arch below.")
    pdf.ln(5)


def font_files() -> list[Path]:
    """Every font file the renderer may load (the tests check each one is present)."""
    folder = fonts_dir()
    return [folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"] + [
        folder / font.file for font in FALLBACK_FONTS
    ]
