"""The Rx script PDF: every name prints as typed, and the layout is where a lab expects it.

Text is read back with pypdf (a PDF library independent of the writer) and with PDFium (the
engine of Chrome's viewer, through pypdfium2). The page is rendered to pixels with PDFium to
check the layout: the QR code decodes to the case link and the chart marks the selected teeth.

Right-to-left text and extraction: a PDF stores glyphs in the order they are drawn (visual
order, left to right). Extractors differ in whether they re-apply the bidi algorithm, so a
Hebrew or Arabic name may come back in logical order, or as its words in visual order. The
comparison accepts exactly those two forms: every letter of every word must come back, in its
order within the word, and nothing else is tolerated. Whitespace is ignored for CJK (pypdf puts
spaces between glyphs drawn one by one) and NUL characters pypdf emits between font runs are
dropped; the text is compared in Unicode NFC.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import replace
from typing import Any

import pypdf
import pypdfium2 as pdfium
import pytest
import zxingcpp

from caseroom import rx_pdf
from caseroom.rx_pdf import RxDocument

CASE_URL = "https://app.caseroom.example/#/cases/7KQ2-M9XD-4RT0"

NAMES = {
    "latin": "Ștefan Łukasz Đorđe Ñúñez Øystein Gößling Ådne Čapek Ğülşen Ếnh",
    "greek": "Σοφία Παπαδοπούλου",
    "cyrillic": "Иван Петров Ёлкина Ґонта",
    "arabic": "محمد عبد الله",
    "hebrew": "דוד כהן",
    "chinese": "王小明",
    "japanese": "山田太郎 やまだ タロウ",
    "korean": "김민준",
}
RTL = {"arabic", "hebrew"}


def document(**changes: object) -> RxDocument:
    base = RxDocument(
        case_id="7KQ2-M9XD-4RT0",
        case_url=CASE_URL,
        patient_name="Maria Garcia",
        clinician_name="Dr. Ana Ortiz",
        case_type="implant_crown",
        teeth=["11", "21", "36"],
        tooth_notation="FDI",
        description="Zirconia crown, shade A2",
        submitted_at="2026-11-30T01:02:03.000Z",
        last_modified="2026-11-30T03:04:05.000Z",
        due_date="2026-12-04",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def pypdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def pdfium_text(pdf: bytes) -> str:
    doc = pdfium.PdfDocument(pdf)
    return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))


def compact(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", text.replace("\x00", "")))


def printed(name: str, text: str, rtl: bool) -> bool:
    forms = [name]
    if rtl:
        forms.append(" ".join(reversed(name.split())))  # words in visual order
    return any(compact(form) in compact(text) for form in forms)


@pytest.mark.parametrize("script", sorted(NAMES))
def test_names_in_every_script_print_exactly_as_typed(script: str) -> None:
    # Given a patient, a clinician and a lab named in this script
    name = NAMES[script]
    doc = document(
        patient_name=name,
        clinician_name=f"Dr. {name}",
        lab_name=name,
        clinic_address=f"{name}\n1 Main Street",
        description=f"Crown for {name}.",
    )
    # When the Rx script is rendered
    pdf = rx_pdf.render(doc)
    # Then both extractors read every name back as it was typed (RTL: see the module doc)
    for text in (pypdf_text(pdf), pdfium_text(pdf)):
        assert printed(name, text, script in RTL), (script, text[:400])
        assert printed(f"Dr. {name}", text, script in RTL) or script in RTL
    # And no character was replaced (no warning, no "?" where a letter was)
    assert "cannot be printed" not in pdfium_text(pdf)


def test_a_mixed_line_keeps_all_its_text() -> None:
    # fpdf2 dropped the Latin part of such lines when Hebrew/Arabic came from a fallback font.
    mixed = "Dr 1 דוד כהן 2 and محمد, 王小明 Ștefan"
    pdf = rx_pdf.render(document(patient_name=mixed))
    text = compact(pdfium_text(pdf))
    for piece in ("Dr1", "and", "王小明", "Ștefan"):
        assert piece in text
    for rtl in ("דוד", "כהן", "محمد"):
        assert rtl in text or rtl[::-1] in text


def test_fonts_are_embedded_and_subsetted() -> None:
    pdf = rx_pdf.render(document(patient_name=NAMES["chinese"] + " " + NAMES["hebrew"]))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    fonts: dict[str, Any] = {}
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for ref in resources["/Font"].values():
            font = ref.get_object()
            fonts[str(font["/BaseFont"])] = font
    assert fonts, "no fonts at all"
    for base_name, font in fonts.items():
        assert re.match(r"^/[A-Z]{6}\+", base_name), f"{base_name} is not a subset"
        descendant = font["/DescendantFonts"][0].get_object()
        descriptor = descendant["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, f"{base_name} not embedded"
        assert "/ToUnicode" in font  # what makes the text searchable and extractable
    assert any("NotoSansCJK" in name for name in fonts)
    # Subsetted: the 16 MB CJK font adds only the glyphs used.
    assert len(pdf) < 250_000


def test_the_cjk_font_is_only_loaded_when_the_document_needs_it() -> None:
    pdf = rx_pdf.render(document(patient_name="Ștefan Łukasz"))
    assert b"NotoSansCJK" not in pdf
    assert b"DejaVuSans" in pdf


def test_a_character_no_font_has_is_flagged_not_printed_blank() -> None:
    # U+2A6D6 (an Extension B ideograph) is in none of the embedded fonts
    pdf = rx_pdf.render(document(patient_name="王\U0002a6d6"))
    text = pdfium_text(pdf)
    assert "cannot be printed" in text and "U+2A6D6" in text


def test_fields_dates_and_optional_details() -> None:
    doc = document(
        clinic_name="Clínica Dental Añorga",
        clinic_address="Calle Mayor 1\n28013 Madrid",
        clinician_licence="COEM 28-12345",
        clinic_timezone="Australia/Sydney",
        lab_name="Ceramiques Ōsaka",
        shade="A2",
        material="Monolithic zirconia",
        notes="Deliver before Friday",
    )
    text = pdfium_text(rx_pdf.render(doc))
    for expected in (
        "Case 7KQ2-M9XD-4RT0",
        "Clínica Dental Añorga",
        "Calle Mayor 1",
        "28013 Madrid",
        "COEM 28-12345",
        "Ceramiques Ōsaka",
        "Maria Garcia",
        "implant crown",
        "11, 21, 36",
        "A2",
        "Monolithic zirconia",
        "Deliver before Friday",
        "Zirconia crown, shade A2",
        # 01:02 UTC is 12:02 in Sydney (summer time, UTC+11), the clinic's zone
        "2026-11-30 12:02 AEDT",
        "2026-11-30 14:04 AEDT",
        "Fri 2026-12-04",
        "Australia/Sydney",
        "Signature of the prescribing clinician",
    ):
        assert expected in text, expected
    # Without the optional details their labels are not printed at all
    bare = pdfium_text(rx_pdf.render(document()))
    for label in ("Licence no.", "Shade", "Material", "Notes", "Address"):
        assert label not in bare
    assert "UTC" in bare  # no clinic zone: times say they are UTC


def test_universal_notation_prints_the_chart_and_list_in_universal() -> None:
    text = pdfium_text(rx_pdf.render(document(teeth=["11", "21", "36", "55"], tooth_notation="UNIVERSAL")))
    assert "Teeth (Universal)" in text
    assert "8, 9, 19, A" in text
    # The chart's rows in Universal numbering, primary teeth included when one is selected
    assert "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16" in " ".join(text.split())
    assert "A B C D E" in " ".join(text.split())


def test_a_long_description_wraps_and_paginates_with_nothing_lost() -> None:
    paragraph = "Ceramic layering on the buccal surface, translucent incisal third. " * 90
    pdf, layout = rx_pdf.render_with_layout(document(description=paragraph.strip()))
    assert layout.pages >= 2
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == layout.pages
    # The page footers sit between the pages' parts of the description
    body = re.sub(r"Rx script \S+ \u00b7 page \d+ of \d+", "", pdfium_text(pdf))
    assert compact(paragraph) in compact(body)
    last = reader.pages[-1].extract_text()
    assert "Signature of the prescribing clinician" in last
    assert f"page {layout.pages} of {layout.pages}" in last


def _page_image(pdf: bytes, page: int, scale: float = 4.0) -> Any:
    return pdfium.PdfDocument(pdf)[page - 1].render(scale=scale).to_pil().convert("RGB")


def test_the_rendered_page_has_a_qr_code_to_the_case_and_marks_the_selected_teeth() -> None:
    teeth = ["11", "21", "36", "47"]
    pdf, layout = rx_pdf.render_with_layout(document(teeth=teeth))
    assert layout.qr is not None and layout.qr.page == 1
    image = _page_image(pdf, 1)
    px_per_mm = image.width / layout.page_size[0]

    # The QR code decodes to the case's link
    decoded = [result.text for result in zxingcpp.read_barcodes(image)]
    assert decoded == [CASE_URL]
    q = layout.qr
    qr_crop = image.crop(
        (
            int(q.x * px_per_mm),
            int(q.y * px_per_mm),
            int((q.x + q.w) * px_per_mm),
            int((q.y + q.h) * px_per_mm),
        )
    )
    assert [r.text for r in zxingcpp.read_barcodes(qr_crop)] == [CASE_URL]

    # Every tooth of the permanent dentition has a box; selected ones are filled, others white
    assert len(layout.teeth) == 32
    for fdi, box in layout.teeth.items():
        # A pixel just inside the box's top-left corner: never covered by the label text
        x = int((box.x + 0.8) * px_per_mm)
        y = int((box.y + 0.8) * px_per_mm)
        r, g, b = image.getpixel((x, y))
        if fdi in teeth:
            assert (r, g, b) == pytest.approx(rx_pdf.MARK, abs=8), fdi
        else:
            assert min(r, g, b) > 240, fdi
        # and its label is drawn inside it (some dark pixels in the box's middle)
        middle = image.crop(
            (
                int((box.x + box.w * 0.25) * px_per_mm),
                int((box.y + box.h * 0.3) * px_per_mm),
                int((box.x + box.w * 0.75) * px_per_mm),
                int((box.y + box.h * 0.7) * px_per_mm),
            )
        )
        colours = {middle.getpixel((i, j)) for i in range(middle.width) for j in range(middle.height)}
        assert len(colours) > 2, f"no label drawn in tooth {fdi}"


def test_every_font_the_renderer_may_load_is_in_the_repository() -> None:
    # CI renders from a clean clone: the fonts are committed files, not a system package.
    for font in rx_pdf.font_files():
        assert font.is_file() and font.stat().st_size > 10_000, font
        assert str(font).startswith(str(rx_pdf.REPO_FONTS_DIR)) or str(font).startswith("/opt/fonts")
