"""A minimal PDF 1.4 writer for text documents (the Rx script).

Why not a PDF library: the Rx script is a page of Helvetica text, which is ~60 lines of
spec-following code; the usual libraries pull in Pillow/fontTools (tens of MB in the layer
and a slower cold start) for features we do not use.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

PAGE_WIDTH, PAGE_HEIGHT = 612, 792  # US Letter, points
MARGIN = 56
LINES_PER_PAGE = 52


@dataclass(frozen=True)
class Line:
    text: str
    size: int = 11
    bold: bool = False


def _escape(text: str) -> str:
    # PDF literal strings: backslash-escape the delimiters; WinAnsi covers Latin-1 names.
    safe = text.encode("cp1252", errors="replace").decode("cp1252")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def wrap(text: str, width: int = 90) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines.extend(textwrap.wrap(paragraph, width=width) or [""])
    return lines


def _page_stream(lines: list[Line]) -> bytes:
    parts = ["BT", f"{MARGIN} {PAGE_HEIGHT - MARGIN} Td"]
    for line in lines:
        font = "/F2" if line.bold else "/F1"
        parts.append(f"{font} {line.size} Tf")
        parts.append(f"({_escape(line.text)}) Tj")
        parts.append(f"0 -{line.size + 4} Td")
    parts.append("ET")
    return "\n".join(parts).encode("cp1252", errors="replace")


def render(lines: list[Line], title: str) -> bytes:
    pages = [lines[i : i + LINES_PER_PAGE] for i in range(0, max(len(lines), 1), LINES_PER_PAGE)]
    objects: list[bytes] = []
    # 1 catalog, 2 pages, 3 regular font, 4 bold font, 5 info, then (page, content) pairs.
    page_ids = [6 + 2 * i for i in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    objects.append(f"<< /Title ({_escape(title)}) /Producer (CaseRoom) >>".encode("cp1252", errors="replace"))
    for page_id, page_lines in zip(page_ids, pages, strict=True):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
            f"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {page_id + 1} 0 R >>".encode()
        )
        stream = _page_stream(page_lines)
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_at,
    )
    return bytes(out)
