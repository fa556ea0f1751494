import { useEffect, useState } from "preact/hooks";
import { api, must, type CaseView } from "../../shared/api/client";
import { formatDateTime, formatDay, label, t } from "../../shared/i18n";
import { AttentionDot, ErrorBox, Loading, Notice } from "../../shared/ui/components";
import { useAsync } from "../../shared/ui/hooks";

/** The case's details; the owner may modify the Rx (with the due-date reset spelled out). */
export function CaseDetails({ view, canEdit, onChanged }: { view: CaseView; canEdit: boolean; onChanged: () => void }) {
  const [editing, setEditing] = useState(false);
  const [rx, setRx] = useState(view.rxDescription);
  const [error, setError] = useState<Error>();
  const [saved, setSaved] = useState<string>();
  useEffect(() => setRx(view.rxDescription), [view.rxDescription]);

  const openRxPdf = async () => {
    try {
      const link = must(await api.GET("/cases/{caseId}/rx-script", { params: { path: { caseId: view.caseId } } }));
      window.open(link.url, "_blank", "noopener");
    } catch (caught) {
      setError(caught as Error);
    }
  };

  const save = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const updated = must(
        await api.PATCH("/cases/{caseId}", {
          params: { path: { caseId: view.caseId } },
          body: { rxDescription: rx, toothNotation: "FDI", version: view.version },
        }),
      );
      setEditing(false);
      setSaved(t("case.saved", { status: label(updated.status) }));
      onChanged();
    } catch (caught) {
      setError(caught as Error);
    }
  };

  return (
    <section class="card" aria-labelledby="details-title">
      <h2 id="details-title">{t("case.details")}</h2>
      <dl class="details">
        <dt>{t("case.status")}</dt>
        <dd>
          <AttentionDot attention={view.attention} text={label(view.status)} />
          {view.statusReason && <span class="muted"> — {view.statusReason}</span>}
        </dd>
        <dt>{t("col.caseType")}</dt>
        <dd>{label(view.caseType)}</dd>
        <dt>{t("case.owner")}</dt>
        <dd>{view.ownerName}</dd>
        <dt>{t("case.lab")}</dt>
        <dd>{view.labId}</dd>
        <dt>{t("case.created")}</dt>
        <dd>{formatDateTime(view.createdAt)}</dd>
        <dt>{t("case.due")}</dt>
        <dd>{formatDay(view.dueDate)}</dd>
        <dt>{t("case.teeth")}</dt>
        <dd>
          FDI {view.teeth.join(", ")} · Universal {view.teethUniversal.join(", ")}
        </dd>
        {view.trackingNumber && (
          <>
            <dt>{t("lab.trackingNumber")}</dt>
            <dd>
              {view.trackingUrl ? (
                <a href={view.trackingUrl} rel="noopener noreferrer" target="_blank">
                  {t("case.tracking", { carrier: view.carrier ?? "", number: view.trackingNumber })}
                </a>
              ) : (
                t("case.tracking", { carrier: view.carrier ?? "", number: view.trackingNumber })
              )}
            </dd>
          </>
        )}
        <dt>{t("case.rx")}</dt>
        <dd class="prewrap">{view.rxDescription}</dd>
      </dl>
      {saved && <Notice>{saved}</Notice>}
      {error && <ErrorBox error={error} />}
      <div class="row">
        {view.rxScript.status === "ready" && (
          <button type="button" class="button secondary" onClick={openRxPdf}>
            {t("case.rxPdf")}
          </button>
        )}
        {canEdit && !editing && (
          <button type="button" class="button secondary" onClick={() => setEditing(true)}>
            {t("case.modify")}
          </button>
        )}
      </div>
      {editing && (
        <form class="stack" onSubmit={save}>
          <p class="alert warn" id="rx-warning">
            {t("case.modifyWarning")}
          </p>
          <label>
            {t("case.rx")}
            <textarea required rows={4} maxLength={4000} aria-describedby="rx-warning" value={rx} onInput={(e) => setRx(e.currentTarget.value)} />
          </label>
          <div class="row">
            <button type="submit" class="button">
              {t("case.save")}
            </button>
            <button type="button" class="button secondary" onClick={() => setEditing(false)}>
              {t("case.cancel")}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

export function Timeline({ caseId, version }: { caseId: string; version: number }) {
  const page = useAsync(async () => must(await api.GET("/cases/{caseId}/timeline", { params: { path: { caseId } } })), [caseId, version]);
  return (
    <section class="card" aria-labelledby="timeline-title">
      <h2 id="timeline-title">{t("case.timeline")}</h2>
      {page.loading && !page.data && <Loading />}
      {page.error && <ErrorBox error={page.error} />}
      <ol class="timeline">
        {page.data?.items.map((entry) => (
          <li key={entry.entryId}>
            <time dateTime={entry.at}>{formatDateTime(entry.at)}</time>{" "}
            <strong>{entry.from ? t("case.from", { from: label(entry.from), to: label(entry.to) }) : label(entry.to)}</strong>{" "}
            <span class="muted">{t("case.by", { name: entry.by.name })}</span>
            {entry.reason && <div class="muted">{entry.reason}</div>}
          </li>
        ))}
      </ol>
    </section>
  );
}

export function AuditTrail({ caseId, version }: { caseId: string; version: number }) {
  const page = useAsync(async () => must(await api.GET("/cases/{caseId}/audit", { params: { path: { caseId } } })), [caseId, version]);
  return (
    <section class="card" aria-labelledby="audit-title">
      <h2 id="audit-title">{t("case.audit")}</h2>
      {page.error && <ErrorBox error={page.error} />}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">{t("audit.when")}</th>
              <th scope="col">{t("audit.action")}</th>
              <th scope="col">{t("audit.who")}</th>
            </tr>
          </thead>
          <tbody>
            {page.data?.items.map((entry) => (
              <tr key={entry.requestId + entry.action + entry.at}>
                <td>{formatDateTime(entry.at)}</td>
                <td>
                  {entry.action} <span class="muted">({entry.outcome})</span>
                </td>
                <td>
                  {entry.actorRole} · {entry.actorId}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
