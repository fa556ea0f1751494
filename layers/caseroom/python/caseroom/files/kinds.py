"""What each kind of case file may be: its size limit, the content types a client may declare,
and the formats (by magic bytes, caseroom.files.magic) its content must have.

Plain data, no pydantic: the verifier imports it on its cold start.
"""

from __future__ import annotations

from dataclasses import dataclass

from caseroom.cases.case_types import FileKind

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


@dataclass(frozen=True)
class KindRules:
    max_bytes: int
    content_types: frozenset[str]
    formats: frozenset[str]  # names from caseroom.files.magic.FORMATS


DICOM = frozenset({"application/dicom", "application/octet-stream"})
ZIP = frozenset({"application/zip", "application/x-zip-compressed"})
JPEG_PNG = frozenset({"image/jpeg", "image/png"})
MESH = frozenset(
    {
        "model/stl",
        "model/x.stl-binary",
        "model/x.stl-ascii",
        "application/sla",
        "application/vnd.ms-pki.stl",
        "model/ply",
        "application/ply",
        "model/obj",
        "text/plain",
        "application/octet-stream",
    }
)

KIND_RULES: dict[FileKind, KindRules] = {
    FileKind.PHOTO: KindRules(50 * MiB, JPEG_PNG, frozenset({"jpeg", "png"})),
    # A CBCT study is one multi-frame DICOM file or a zipped folder of slices; 0.5-5 GB is usual.
    FileKind.CBCT: KindRules(8 * GiB, DICOM | ZIP, frozenset({"dicom", "zip"})),
    FileKind.SCAN: KindRules(
        1 * GiB, MESH | ZIP, frozenset({"stl-binary", "stl-ascii", "ply", "obj", "zip"})
    ),
    FileKind.XRAY: KindRules(200 * MiB, DICOM | JPEG_PNG, frozenset({"dicom", "jpeg", "png"})),
    FileKind.VIDEO: KindRules(4 * GiB, frozenset({"video/mp4", "video/quicktime"}), frozenset({"mp4"})),
    FileKind.PDF: KindRules(200 * MiB, frozenset({"application/pdf"}), frozenset({"pdf"})),
    FileKind.OTHER: KindRules(
        1 * GiB,
        JPEG_PNG
        | DICOM
        | ZIP
        | MESH
        | frozenset({"application/pdf", "video/mp4", "video/quicktime", "text/csv"}),
        frozenset(
            {"jpeg", "png", "dicom", "zip", "pdf", "mp4", "stl-binary", "stl-ascii", "ply", "obj", "text"}
        ),
    ),
}


def rules_for(kind: FileKind) -> KindRules:
    return KIND_RULES[kind]


def normalized_content_type(value: str) -> str:
    """`Image/JPEG; charset=x` -> `image/jpeg`: parameters never decide what a file is."""
    return value.split(";", 1)[0].strip().lower()
