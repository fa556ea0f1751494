"""HTTP routes of labs (served by the cases_api function): the labs a caller may choose."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from caseroom.access import Action
from caseroom.http import current_principal
from caseroom.labs.logic import LabService
from caseroom.labs.models import LabChoices
from caseroom.route_support import ServiceSlot, declares

router = Router()

_services = ServiceSlot(LabService)
service = _services.get
use_service = _services.use  # tests inject a service with a fixed clock


@router.get("/labs", summary="The labs I can send cases to, with my default lab and my clinic")
@declares(Action.LABS_READ)
def my_labs() -> LabChoices:
    return service().my_labs(current_principal(router))
