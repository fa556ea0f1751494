"""The Rx script: the printed prescription the lab works from, generated from the case."""

from __future__ import annotations

from dataclasses import replace

from caseroom import audit_store, documents, rx_pdf
from caseroom.audit import system_record
from caseroom.cases import dal
from caseroom.cases.records import Case, RxScriptDocument
from caseroom.clock import Clock, SystemClock, iso
from caseroom.events import DomainEvent
from caseroom.observability import logger
from caseroom.settings import app_link


def rx_document(
    case: Case,
    *,
    clinic_name: str | None = None,
    clinic_address: str | None = None,
    clinician_licence: str | None = None,
    clinic_timezone: str | None = None,
    lab_name: str | None = None,
    shade: str | None = None,
    material: str | None = None,
    notes: str | None = None,
) -> rx_pdf.RxDocument:
    """What the Rx script prints for `case`. The keyword details live outside the case record
    (the clinic's and the lab's records, Rx fields not modelled yet): each prints when given."""
    return rx_pdf.RxDocument(
        case_id=case.case_id,
        case_url=app_link(f"cases/{case.case_id}"),
        patient_name=case.patient_name,
        clinician_name=case.owner_name,
        case_type=case.case_type.value,
        teeth=list(case.teeth),
        tooth_notation=case.tooth_notation,
        description=case.rx_description,
        submitted_at=case.created_at,
        last_modified=case.last_modified,
        due_date=case.due_date,
        clinic_name=clinic_name,
        clinic_address=clinic_address,
        clinician_licence=clinician_licence,
        clinic_timezone=clinic_timezone,
        lab_name=lab_name,
        shade=shade,
        material=material,
        notes=notes,
    )


def rx_document_with_parties(case: Case) -> rx_pdf.RxDocument:
    """The Rx of `case` with what the clinic's, the clinician's and the lab's records hold."""
    from caseroom.labs.rx import rx_parties

    parties = rx_parties(case.owner_id, case.clinic_id, case.lab_id)
    document = rx_document(
        case,
        clinic_name=parties.clinic.name if parties.clinic else None,
        clinic_address="\n".join(parties.clinic.address) if parties.clinic else None,
        clinician_licence=parties.clinician.licence_number if parties.clinician else None,
        clinic_timezone=parties.clinic_timezone,
        lab_name=parties.lab.name if parties.lab else None,
    )
    display_name = parties.clinician.display_name if parties.clinician else None
    return replace(document, clinician_name=display_name) if display_name else document


def generate_for_event(event: DomainEvent, clock: Clock | None = None) -> bool:
    """Builds the script for the case's current Rx. Safe to run twice or out of order: the
    object key carries the Rx version and the document record only moves forward."""
    now = (clock or SystemClock()).now()
    case = dal.get_case(event.case_id)
    if case is None:
        logger.warning("case of event not found", extra={"event_id": event.id})
        return False
    key = documents.rx_script_key(case.case_id, case.rx_version)
    documents.store_pdf(key, rx_pdf.render(rx_document_with_parties(case)))
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
