"""The Rx script: the printed prescription the lab works from, generated from the case."""

from __future__ import annotations

from caseroom import audit_store, documents, pdf
from caseroom.audit import system_record
from caseroom.cases import dal
from caseroom.cases.records import Case, RxScriptDocument
from caseroom.cases.teeth import to_universal
from caseroom.clock import Clock, SystemClock, iso
from caseroom.events import DomainEvent
from caseroom.observability import logger


def script_lines(case: Case) -> list[pdf.Line]:
    lines = [
        pdf.Line("Rx script", size=18, bold=True),
        pdf.Line(""),
        pdf.Line(f"Case ID: {case.case_id}", bold=True),
        pdf.Line(f"Patient: {case.patient_name}"),
        pdf.Line(f"Clinician: {case.owner_name}"),
        pdf.Line(f"Case type: {case.case_type.value.replace('_', ' ')}"),
        pdf.Line(f"Teeth (FDI): {', '.join(case.teeth)}"),
        pdf.Line(f"Teeth (Universal): {', '.join(to_universal(case.teeth))}"),
        pdf.Line(f"Submitted: {case.created_at}    Last modified: {case.last_modified}"),
        pdf.Line(""),
        pdf.Line("Description", bold=True),
    ]
    lines.extend(pdf.Line(text) for text in pdf.wrap(case.rx_description))
    return lines


def generate_for_event(event: DomainEvent, clock: Clock | None = None) -> bool:
    """Builds the script for the case's current Rx. Safe to run twice or out of order: the
    object key carries the Rx version and the document record only moves forward."""
    now = (clock or SystemClock()).now()
    case = dal.get_case(event.case_id)
    if case is None:
        logger.warning("case of event not found", extra={"event_id": event.id})
        return False
    key = documents.rx_script_key(case.case_id, case.rx_version)
    documents.store_pdf(key, pdf.render(script_lines(case), title=f"Rx script {case.case_id}"))
    record = system_record(
        "rx_script", "rx_script.generate", case.case_id, "document", key, iso(now), event.id
    )
    return dal.save_rx_script(
        RxScriptDocument(
            case_id=case.case_id,
            status="ready",
            rx_version=case.rx_version,
            object_key=key,
            generated_at=iso(now),
        ),
        also=[audit_store.audit_put_action(record)],
    )
