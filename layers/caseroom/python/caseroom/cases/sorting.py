"""The orders a case list can be sorted in (query parameters of the list routes)."""

from __future__ import annotations

from enum import StrEnum


class SortColumn(StrEnum):
    ATTENTION = "attention"
    CASE_ID = "caseId"
    PATIENT = "patient"
    STATUS = "status"
    LAST_MODIFIED = "lastModified"
    DUE_DATE = "dueDate"


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"
