"""Content sniffing by magic bytes: what format the first bytes of a file (and its size) say it is.

Reads only a prefix (HEAD_BYTES), so verifying a 5 GB CBCT costs the same as a 5 MB photo.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

HEAD_BYTES = 64 * 1024

DICOM_PREAMBLE = 128
BINARY_STL_HEADER = 80
BINARY_STL_TRIANGLE = 50
OBJ_KEYWORDS = (b"v", b"vt", b"vn", b"vp", b"f", b"l", b"o", b"g", b"s", b"mtllib", b"usemtl", b"#")


def is_dicom(head: bytes, size: int) -> bool:
    # PS3.10: a 128-byte preamble, then "DICM".
    return head[DICOM_PREAMBLE : DICOM_PREAMBLE + 4] == b"DICM"


def is_jpeg(head: bytes, size: int) -> bool:
    return head[:3] == b"\xff\xd8\xff"


def is_png(head: bytes, size: int) -> bool:
    return head[:8] == b"\x89PNG\r\n\x1a\n"


def is_pdf(head: bytes, size: int) -> bool:
    return head[:5] == b"%PDF-"


def is_mp4(head: bytes, size: int) -> bool:
    # ISO base media file: the first box is "ftyp" (MP4, QuickTime .mov alike).
    return len(head) >= 12 and head[4:8] == b"ftyp"


def is_zip(head: bytes, size: int) -> bool:
    return head[:4] == b"PK\x03\x04"


def is_binary_stl(head: bytes, size: int) -> bool:
    # 80-byte header, uint32 triangle count, 50 bytes per triangle: the size must add up exactly.
    if len(head) < BINARY_STL_HEADER + 4:
        return False
    (triangles,) = struct.unpack_from("<I", head, BINARY_STL_HEADER)
    return triangles > 0 and size == BINARY_STL_HEADER + 4 + BINARY_STL_TRIANGLE * triangles


def is_ascii_stl(head: bytes, size: int) -> bool:
    text = _text(head)
    return text is not None and text.lstrip().startswith("solid") and "facet" in text


def is_ply(head: bytes, size: int) -> bool:
    return head.startswith((b"ply\n", b"ply\r\n")) and b"format " in head[:200]


def is_obj(head: bytes, size: int) -> bool:
    text = _text(head)
    if text is None:
        return False
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # The last line of the prefix may be cut in the middle: judge the complete ones.
    complete = lines[:-1] if len(head) >= HEAD_BYTES else lines
    if not complete:
        return False
    recognized = [line for line in complete if line.split(maxsplit=1)[0].encode() in OBJ_KEYWORDS]
    return any(line.startswith(("v ", "f ")) for line in recognized) and len(recognized) == len(complete)


def is_text(head: bytes, size: int) -> bool:
    return _text(head) is not None


def _text(head: bytes) -> str | None:
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the prefix is still text.
        if error.start >= len(head) - 3 and len(head) >= HEAD_BYTES:
            return head[: error.start].decode("utf-8")
        return None


FORMATS: dict[str, Callable[[bytes, int], bool]] = {
    "dicom": is_dicom,
    "jpeg": is_jpeg,
    "png": is_png,
    "pdf": is_pdf,
    "mp4": is_mp4,
    "zip": is_zip,
    "stl-binary": is_binary_stl,
    "stl-ascii": is_ascii_stl,
    "ply": is_ply,
    "obj": is_obj,
    "text": is_text,
}


def detect(head: bytes, size: int, allowed: frozenset[str]) -> str | None:
    """The first allowed format the content matches, or None."""
    for name, check in FORMATS.items():
        if name in allowed and check(head, size):
            return name
    return None
