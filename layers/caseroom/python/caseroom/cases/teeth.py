"""Tooth numbering. Clinicians write FDI (ISO 3950: 11-48, primary 51-85) or Universal
(1-32, primary A-T); CaseRoom stores FDI only, so a lab never has to guess the notation."""

from __future__ import annotations

from enum import StrEnum

from caseroom.errors import InvalidTooth


class ToothNotation(StrEnum):
    FDI = "FDI"
    UNIVERSAL = "UNIVERSAL"


def _fdi_numbers() -> frozenset[str]:
    permanent = {f"{q}{t}" for q in range(1, 5) for t in range(1, 9)}
    primary = {f"{q}{t}" for q in range(5, 9) for t in range(1, 6)}
    return frozenset(permanent | primary)


VALID_FDI = _fdi_numbers()


def _universal_to_fdi() -> dict[str, str]:
    mapping: dict[str, str] = {}
    # Permanent: 1-8 upper right (18..11), 9-16 upper left (21..28),
    # 17-24 lower left (38..31), 25-32 lower right (41..48).
    for n in range(1, 9):
        mapping[str(n)] = f"1{9 - n}"
        mapping[str(n + 8)] = f"2{n}"
        mapping[str(n + 16)] = f"3{9 - n}"
        mapping[str(n + 24)] = f"4{n}"
    # Primary: A-E upper right (55..51), F-J upper left (61..65),
    # K-O lower left (75..71), P-T lower right (81..85).
    for i in range(5):
        mapping["ABCDE"[i]] = f"5{5 - i}"
        mapping["FGHIJ"[i]] = f"6{i + 1}"
        mapping["KLMNO"[i]] = f"7{5 - i}"
        mapping["PQRST"[i]] = f"8{i + 1}"
    return mapping


UNIVERSAL_TO_FDI = _universal_to_fdi()
FDI_TO_UNIVERSAL = {fdi: uni for uni, fdi in UNIVERSAL_TO_FDI.items()}


def _fdi_order(fdi: str) -> tuple[int, int]:
    return int(fdi[0]), int(fdi[1])


def to_canonical(teeth: list[str], notation: ToothNotation) -> list[str]:
    """Validated, de-duplicated FDI numbers in quadrant order. Raises InvalidTooth naming the
    position of the first bad entry (not its value: error messages never echo input)."""
    canonical: set[str] = set()
    for position, raw in enumerate(teeth, start=1):
        value = str(raw).strip().upper()
        if notation is ToothNotation.FDI:
            fdi = value if value in VALID_FDI else None
        else:
            fdi = UNIVERSAL_TO_FDI.get(value.lstrip("0") if value.isdigit() else value)
        if fdi is None:
            raise InvalidTooth(
                f"Tooth #{position} in the list is not a valid {notation.value} tooth number.",
                details=[{"loc": ["body", "teeth", position - 1], "type": "invalid_tooth"}],
            )
        canonical.add(fdi)
    return sorted(canonical, key=_fdi_order)


def to_universal(fdi_teeth: list[str]) -> list[str]:
    return [FDI_TO_UNIVERSAL[t] for t in fdi_teeth]
