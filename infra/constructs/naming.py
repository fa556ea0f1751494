"""Construct ids from manifest names: cases_api -> CasesApi, notify-on-case-created -> NotifyOnCaseCreated."""

import re


def pascal_case(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[-_\s]+", name) if part)
