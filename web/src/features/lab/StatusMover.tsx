import { useState } from "preact/hooks";
import { api, must, type CaseStatus, type CaseView } from "../../shared/api/client";
import { label, t } from "../../shared/i18n";
import { ErrorBox, Notice } from "../../shared/ui/components";
import transitions from "./transitions.json";

// The lab's moves through PUT /cases/{caseId}/status, generated from the backend's state machine
// (caseroom.cases.transitions; tests/unit/test_web_transitions.py fails when they drift).
const ALLOWED = transitions as Record<CaseStatus, CaseStatus[]>;

export function allowedMoves(status: CaseStatus): CaseStatus[] {
  return ALLOWED[status] ?? [];
}

/** Offers only the statuses the case may move to; asks for a reason (On Hold) or tracking (Shipped). */
export function StatusMover({ view, onMoved }: { view: CaseView; onMoved: () => void }) {
  const moves = allowedMoves(view.status);
  const [target, setTarget] = useState<CaseStatus | "">("");
  const [reason, setReason] = useState("");
  const [carrier, setCarrier] = useState("");
  const [trackingNumber, setTrackingNumber] = useState("");
  const [trackingUrl, setTrackingUrl] = useState("");
  const [error, setError] = useState<Error>();
  const [done, setDone] = useState<string>();
  const chosen = target && moves.includes(target) ? target : moves[0];

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!chosen) return;
    setError(undefined);
    try {
      const shipping = chosen === "Shipped";
      const updated = must(
        await api.PUT("/cases/{caseId}/status", {
          params: { path: { caseId: view.caseId } },
          body: {
            status: chosen,
            version: view.version,
            reason: chosen === "On Hold" ? reason : null,
            carrier: shipping ? carrier : null,
            trackingNumber: shipping ? trackingNumber : null,
            trackingUrl: shipping ? trackingUrl : null,
          },
        }),
      );
      setDone(t("lab.moved", { status: label(updated.status) }));
      setTarget("");
      onMoved();
    } catch (caught) {
      setError(caught as Error);
    }
  };

  return (
    <section class="card" aria-labelledby="move-title">
      <h2 id="move-title">{t("case.status")}</h2>
      {done && <Notice>{done}</Notice>}
      {moves.length === 0 ? (
        <p>{t("lab.none")}</p>
      ) : (
        <form class="stack" onSubmit={submit}>
          <label>
            {t("lab.move")}
            <select name="status" value={chosen} onChange={(e) => setTarget(e.currentTarget.value as CaseStatus)}>
              {moves.map((status) => (
                <option key={status} value={status}>
                  {label(status)}
                </option>
              ))}
            </select>
          </label>
          {chosen === "On Hold" && (
            <label>
              {t("lab.reason")}
              <input required maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
            </label>
          )}
          {chosen === "Shipped" && (
            <>
              <label>
                {t("lab.carrier")}
                <input required maxLength={60} value={carrier} onInput={(e) => setCarrier(e.currentTarget.value)} />
              </label>
              <label>
                {t("lab.trackingNumber")}
                <input required minLength={3} maxLength={64} pattern="[A-Za-z0-9 \-]+" value={trackingNumber} onInput={(e) => setTrackingNumber(e.currentTarget.value)} />
              </label>
              <label>
                {t("lab.trackingUrl")}
                <input required type="url" pattern="https://.*" value={trackingUrl} onInput={(e) => setTrackingUrl(e.currentTarget.value)} />
              </label>
            </>
          )}
          {error && <ErrorBox error={error} />}
          <button type="submit" class="button">
            {t("lab.apply")}
          </button>
        </form>
      )}
    </section>
  );
}
