"""Magic bytes per kind, size limits, part plans and Content-Disposition (no AWS)."""

from __future__ import annotations

import struct

import pytest

from caseroom.cases.case_types import FileKind
from caseroom.errors import InvalidPartSize
from caseroom.files import magic
from caseroom.files.kinds import GiB, MiB, rules_for
from caseroom.files.logic import content_disposition, part_plan

DICOM = b"\x00" * 128 + b"DICM" + b"\x02\x00" * 10
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 20
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
PDF = b"%PDF-1.7\n"
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 20
ZIP = b"PK\x03\x04" + b"\x00" * 20
ASCII_STL = b"solid tooth\n facet normal 0 0 1\n  outer loop\n"
PLY = b"ply\nformat binary_little_endian 1.0\nelement vertex 3\n"
OBJ = b"# scan\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"


def binary_stl(triangles: int) -> bytes:
    return b"\x00" * 80 + struct.pack("<I", triangles) + b"\x00" * 50 * triangles


@pytest.mark.parametrize(
    ("kind", "content", "expected"),
    [
        (FileKind.CBCT, DICOM, "dicom"),
        (FileKind.CBCT, ZIP, "zip"),
        (FileKind.PHOTO, JPEG, "jpeg"),
        (FileKind.PHOTO, PNG, "png"),
        (FileKind.XRAY, DICOM, "dicom"),
        (FileKind.PDF, PDF, "pdf"),
        (FileKind.VIDEO, MP4, "mp4"),
        (FileKind.SCAN, binary_stl(3), "stl-binary"),
        (FileKind.SCAN, ASCII_STL, "stl-ascii"),
        (FileKind.SCAN, PLY, "ply"),
        (FileKind.SCAN, OBJ, "obj"),
        (FileKind.OTHER, b"plain notes\n", "text"),
    ],
)
def test_each_kind_accepts_its_formats(kind: FileKind, content: bytes, expected: str) -> None:
    assert magic.detect(content, len(content), rules_for(kind).formats) == expected


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        (FileKind.CBCT, PNG),  # a photo is not a CBCT
        (FileKind.CBCT, b"\x00" * 132),  # a preamble without DICM
        (FileKind.PHOTO, PDF),
        (FileKind.PDF, JPEG),
        (FileKind.VIDEO, ZIP),
        (FileKind.SCAN, b"\x00" * 80 + struct.pack("<I", 3) + b"\x00" * 10),  # size does not add up
        (FileKind.SCAN, b"hello world, not a mesh\n"),
        (FileKind.XRAY, MP4),
        (FileKind.OTHER, b"MZ\x90\x00\x03\x00\x00\x00"),  # a Windows executable
    ],
)
def test_content_of_another_kind_is_rejected(kind: FileKind, content: bytes) -> None:
    assert magic.detect(content, len(content), rules_for(kind).formats) is None


def test_size_limits_per_kind() -> None:
    assert rules_for(FileKind.CBCT).max_bytes >= 5 * GiB  # a 5 GB CBCT fits
    assert rules_for(FileKind.PHOTO).max_bytes == 50 * MiB
    assert all(rules_for(kind).max_bytes <= 8 * GiB for kind in FileKind)


def test_part_plans_honour_s3_limits() -> None:
    assert part_plan(11 * MiB, 5 * MiB) == (5 * MiB, 3)
    size, count = part_plan(5 * GiB, None)
    assert size >= 5 * MiB and count <= 10_000 and size * count >= 5 * GiB
    huge_size, huge_count = part_plan(200 * GiB, None)  # default grows to fit 10,000 parts
    assert huge_count <= 10_000 and huge_size % MiB == 0
    for bad in (4 * MiB, 6 * GiB):
        with pytest.raises(InvalidPartSize):
            part_plan(11 * MiB, bad)
    with pytest.raises(InvalidPartSize):
        part_plan(100 * GiB, 5 * MiB)  # 20,480 parts


def test_content_disposition_carries_the_exact_name_rfc_5987() -> None:
    header = content_disposition('Müller "CBCT" 100%.dcm')
    assert header.startswith('attachment; filename="M_ller _CBCT_ 100_.dcm"; ')
    assert header.endswith("filename*=UTF-8''M%C3%BCller%20%22CBCT%22%20100%25.dcm")
