"""Value types every request model shares, so one rule holds for every field of its kind.

- `PatientText`: any string that may carry patient data (names, Rx text, reasons, file and
  gallery names). It refuses what makes a string print or sort differently from what the
  clinician sees: bidirectional embeddings/overrides/isolates, line and paragraph separators,
  C0 (other than tab, line feed, carriage return) and C1 controls, DEL, lone surrogates, and
  zero-width or direction marks at either edge. Fields add their own length/pattern on top.
- `StrictInt`: a JSON integer; "1", 1.0 and true are not 1.
- `BoundedDateTime`: a date-time from 2000-01-01 to 2099-12-31; anything outside is a 422,
  never date arithmetic that overflows (year 9999 plus an hour is not a date).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Strict
from pydantic_core import PydanticCustomError

# Anywhere in the string.
_FORBIDDEN = re.compile(
    "["
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f"  # C0 controls except tab, LF, CR; DEL
    "\x80-\x9f"  # C1 controls
    "\u202a-\u202e"  # bidi embeddings and overrides (LRE, RLE, PDF, LRO, RLO)
    "\u2066-\u2069"  # bidi isolates (LRI, RLI, FSI, PDI)
    "\u2028\u2029"  # line and paragraph separators
    "\ud800-\udfff"  # lone surrogates (JSON "\\ud800" decodes to one)
    "\ufff9-\ufffb"  # interlinear annotation controls
    "]"
)
# Invisible characters that are fine inside a word (ZWJ in emoji, ZWNJ in Persian) but change
# how a name sorts or matches when they lead or trail it.
_INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u180e\u061c\u00ad"


def check_patient_text(value: str) -> str:
    # Strips here too: a field's StringConstraints may strip only after this check runs.
    value = value.strip()
    if _FORBIDDEN.search(value):
        raise PydanticCustomError(
            "unsafe_characters",
            "Control, bidirectional-override or line/paragraph-separator characters are not allowed.",
        )
    if value and (value[0] in _INVISIBLE or value[-1] in _INVISIBLE):
        raise PydanticCustomError(
            "invisible_edge_characters", "The text may not start or end with an invisible character."
        )
    return value


PatientText = Annotated[str, AfterValidator(check_patient_text)]

StrictInt = Annotated[int, Strict()]

EARLIEST = datetime(2000, 1, 1)
LATEST = datetime(2099, 12, 31, 23, 59, 59)


def _check_date_range(value: datetime) -> datetime:
    wall = value.replace(tzinfo=None)
    if not EARLIEST <= wall <= LATEST:
        raise PydanticCustomError("date_out_of_range", "Dates must be from 2000-01-01 to 2099-12-31.")
    return value


BoundedDateTime = Annotated[datetime, AfterValidator(_check_date_range)]
