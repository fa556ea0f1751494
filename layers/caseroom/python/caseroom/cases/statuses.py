"""Lab statuses and the attention colour each one means for the clinician.

red: needs the clinician, the case is effectively on hold with no due date.
yellow: may need attention or is not yet evaluated. green: progressing.
white: being manufactured, shipped, cancelled or on hold: nothing to do.
"""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    MISSING_FILES = "Missing CBCT/Models"
    PROCESSING = "Processing"
    RECEIVED = "Received"
    READY_TO_PLAN = "Ready to Plan"
    PLANNING_SCHEDULED = "Planning Scheduled"
    PLANNING_NO_SHOW = "Planning No Show"
    MANUFACTURING = "Manufacturing"
    FINISHED = "Finished"
    SHIPPED = "Shipped"
    ON_HOLD = "On Hold"
    CANCELLED = "Cancelled"


class Attention(StrEnum):
    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"
    WHITE = "white"


ATTENTION_OF: dict[CaseStatus, Attention] = {
    CaseStatus.MISSING_FILES: Attention.RED,
    CaseStatus.PLANNING_NO_SHOW: Attention.RED,
    CaseStatus.PROCESSING: Attention.YELLOW,
    CaseStatus.READY_TO_PLAN: Attention.YELLOW,
    CaseStatus.RECEIVED: Attention.GREEN,
    CaseStatus.PLANNING_SCHEDULED: Attention.GREEN,
    CaseStatus.MANUFACTURING: Attention.WHITE,
    CaseStatus.FINISHED: Attention.WHITE,
    CaseStatus.SHIPPED: Attention.WHITE,
    CaseStatus.ON_HOLD: Attention.WHITE,
    CaseStatus.CANCELLED: Attention.WHITE,
}

# Default list order: the attention a case needs from the clinician, most urgent first.
ATTENTION_RANK: dict[Attention, int] = {
    Attention.RED: 0,
    Attention.YELLOW: 1,
    Attention.GREEN: 2,
    Attention.WHITE: 3,
}

# Lifecycle order, used to sort by status and to break ties inside one colour.
STATUS_ORDER: dict[CaseStatus, int] = {status: index for index, status in enumerate(CaseStatus)}


def attention_of(status: CaseStatus) -> Attention:
    return ATTENTION_OF[status]
