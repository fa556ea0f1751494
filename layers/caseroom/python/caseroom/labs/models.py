"""The labs API contract (openapi.json is generated from these models)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from caseroom.cases.case_types import CaseType


class _View(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)


class CaseTypeOffer(_View):
    case_type: CaseType = Field(alias="caseType")
    turnaround_business_days: int = Field(
        alias="turnaroundBusinessDays",
        description="From (re)submission to shipping, in the lab's business days",
    )
    manufacturing_business_days: int = Field(
        alias="manufacturingBusinessDays", description="From Manufacturing to shipping"
    )


class LabView(_View):
    lab_id: str = Field(alias="labId")
    name: str
    timezone: str = Field(description="IANA zone: due dates and planning blocks are the lab's local time")
    today: str = Field(description="The lab's date right now (ISO), which may differ from yours")
    business_days: list[int] = Field(
        alias="businessDays", description="ISO weekdays, 1 = Monday ... 7 = Sunday"
    )
    holidays: list[str] = Field(description="ISO dates the lab is closed, from the lab's today on")
    case_types: list[CaseTypeOffer] = Field(alias="caseTypes", description="What the lab makes")
    address: list[str]


class ClinicView(_View):
    clinic_id: str = Field(alias="clinicId")
    name: str
    timezone: str
    address: list[str]
    phone: str | None = None


class LabChoices(_View):
    """The labs the caller may send a case to (a lab member: their own lab), with the default."""

    items: list[LabView]
    default_lab_id: str | None = Field(default=None, alias="defaultLabId")
    clinic: ClinicView | None = Field(default=None, description="The clinician's clinic (printed on the Rx)")
