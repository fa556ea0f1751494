from __future__ import annotations

import pytest

from caseroom.cases.teeth import FDI_TO_UNIVERSAL, ToothNotation, to_canonical, to_universal
from caseroom.errors import InvalidTooth


def test_universal_maps_to_fdi_quadrants() -> None:
    assert to_canonical(["1", "8", "9", "16", "17", "24", "25", "32"], ToothNotation.UNIVERSAL) == [
        "11",
        "18",
        "21",
        "28",
        "31",
        "38",
        "41",
        "48",
    ]
    assert to_canonical(["A", "E", "F", "J", "K", "O", "P", "T"], ToothNotation.UNIVERSAL) == [
        "51",
        "55",
        "61",
        "65",
        "71",
        "75",
        "81",
        "85",
    ]


def test_mapping_is_a_bijection_over_52_teeth() -> None:
    assert len(FDI_TO_UNIVERSAL) == 52
    assert to_universal(to_canonical(["3", "30", "c"], ToothNotation.UNIVERSAL)) == ["3", "30", "C"]


def test_duplicates_collapse_and_order_is_clinical() -> None:
    assert to_canonical(["21", "11", "21", " 48 "], ToothNotation.FDI) == ["11", "21", "48"]


@pytest.mark.parametrize("tooth", ["10", "19", "56", "90", "0", "", "1", "A"])
def test_impossible_fdi(tooth: str) -> None:
    with pytest.raises(InvalidTooth):
        to_canonical([tooth], ToothNotation.FDI)


@pytest.mark.parametrize("tooth", ["0", "33", "U", "Z", "11a"])
def test_impossible_universal(tooth: str) -> None:
    with pytest.raises(InvalidTooth):
        to_canonical([tooth], ToothNotation.UNIVERSAL)
