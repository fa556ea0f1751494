import { useMemo, useState } from "preact/hooks";
import { api, must, type CaseType } from "../../shared/api/client";
import { label, t } from "../../shared/i18n";
import { navigate } from "../../shared/router";
import { ErrorBox, Loading, ScreenTitle } from "../../shared/ui/components";
import { useAsync } from "../../shared/ui/hooks";
import { display, type Notation } from "./teeth";
import { ToothChart } from "./ToothChart";

/** Open a case: patient, Rx, teeth on a chart (FDI or Universal), the lab and a case type it makes. */
export function NewCase() {
  const labs = useAsync(async () => must(await api.GET("/labs")), []);
  const [patientName, setPatientName] = useState("");
  const [rx, setRx] = useState("");
  const [notation, setNotation] = useState<Notation>("FDI");
  const [teeth, setTeeth] = useState<Set<string>>(new Set());
  const [labId, setLabId] = useState<string>();
  const [caseType, setCaseType] = useState<CaseType>();
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  // One key per form: a retried submit (double click, flaky network) opens one case.
  const idempotencyKey = useMemo(() => crypto.randomUUID(), []);

  const chosenLabId = labId ?? labs.data?.defaultLabId ?? labs.data?.items[0]?.labId;
  const lab = labs.data?.items.find((item) => item.labId === chosenLabId);
  const offered = lab?.caseTypes.map((offer) => offer.caseType) ?? [];
  const chosenType = caseType && offered.includes(caseType) ? caseType : offered[0];

  const toggle = (fdi: string) => {
    const next = new Set(teeth);
    if (next.has(fdi)) next.delete(fdi);
    else next.add(fdi);
    setTeeth(next);
  };

  // The button waits for the labs: the case type comes from the chosen lab's offer.
  const submit = async (event: Event) => {
    event.preventDefault();
    if (teeth.size === 0 || !chosenType) {
      setError(new Error(t("new.needTeeth")));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const created = must(
        await api.POST("/cases", {
          params: { header: { "idempotency-key": idempotencyKey } },
          body: {
            patientName,
            rxDescription: rx,
            teeth: [...teeth].map((fdi) => display(fdi, notation)),
            toothNotation: notation,
            caseType: chosenType,
            labId: chosenLabId ?? null,
            attachments: [],
          },
        }),
      );
      navigate({ name: "case", caseId: created.caseId });
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  };

  const shown = [...teeth].map((fdi) => display(fdi, notation));
  return (
    <section>
      <ScreenTitle>{t("new.title")}</ScreenTitle>
      {labs.loading && <Loading />}
      {labs.error && <ErrorBox error={labs.error} />}
      <form class="card stack" onSubmit={submit}>
        <label>
          {t("new.patient")}
          <input required maxLength={120} autoComplete="off" value={patientName} onInput={(e) => setPatientName(e.currentTarget.value)} />
        </label>
        <label>
          {t("new.rx")}
          <textarea required maxLength={4000} rows={3} value={rx} onInput={(e) => setRx(e.currentTarget.value)} />
        </label>
        {labs.data && (
          <label>
            {t("new.lab")}
            <select value={chosenLabId} onChange={(e) => setLabId(e.currentTarget.value)}>
              {labs.data.items.map((item) => (
                <option key={item.labId} value={item.labId}>
                  {item.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          {t("new.caseType")}
          <select value={chosenType} onChange={(e) => setCaseType(e.currentTarget.value as CaseType)}>
            {offered.map((type) => (
              <option key={type} value={type}>
                {label(type)}
              </option>
            ))}
          </select>
        </label>
        <fieldset>
          <legend>{t("new.teeth")}</legend>
          <div role="radiogroup" aria-label={t("new.notation")} class="row">
            {(["FDI", "UNIVERSAL"] as const).map((value) => (
              <label class="check" key={value}>
                <input type="radio" name="notation" value={value} checked={notation === value} onChange={() => setNotation(value)} />
                {t(`new.notation.${value}`)}
              </label>
            ))}
          </div>
          <ToothChart selected={teeth} notation={notation} onToggle={toggle} />
          <p aria-live="polite" class="muted">
            {shown.length ? t("new.selected", { teeth: shown.join(", ") }) : t("new.noneSelected")}
          </p>
        </fieldset>
        {error && <ErrorBox error={error} />}
        <button type="submit" class="button" disabled={busy || !labs.data}>
          {t("new.submit")}
        </button>
      </form>
    </section>
  );
}
