// A printable confirmation of a case: who, what, for which lab, when due, with the Rx summary and
// the teeth in both notations. The print stylesheet (styles.css @media print) drops the app's
// chrome, so the browser's print (or "Save as PDF") gives one clean page.
import { api, must } from "../../shared/api/client";
import { formatDateTime, formatDay, label, t } from "../../shared/i18n";
import { href } from "../../shared/router";
import { ErrorBox, Loading, ScreenTitle } from "../../shared/ui/components";
import { useAsync } from "../../shared/ui/hooks";

export function PrintConfirmation({ caseId }: { caseId: string }) {
  const view = useAsync(async () => must(await api.GET("/cases/{caseId}", { params: { path: { caseId } } })), [caseId]);
  const labs = useAsync(async () => must(await api.GET("/labs")), []);
  if (view.error) return <ErrorBox error={view.error} />;
  if (!view.data) return <Loading />;
  const data = view.data;
  const lab = labs.data?.items.find((item) => item.labId === data.labId);
  const clinic = labs.data?.clinic;
  return (
    <article class="print-sheet">
      <div class="row between no-print">
        <a href={href({ name: "case", caseId })}>{t("print.back")}</a>
        <button type="button" class="button" onClick={() => window.print()}>
          {t("print.print")}
        </button>
      </div>
      <ScreenTitle>{t("print.title", { caseId: data.caseId })}</ScreenTitle>
      <p class="muted">{t("print.printedAt", { when: formatDateTime(new Date().toISOString()) })}</p>
      <dl class="details">
        <dt>{t("col.patient")}</dt>
        <dd>{data.patientName}</dd>
        <dt>{t("case.owner")}</dt>
        <dd>
          {data.ownerName}
          {clinic && <span> · {clinic.name}</span>}
        </dd>
        <dt>{t("case.lab")}</dt>
        <dd>
          {lab?.name ?? data.labId}
          {lab && lab.address.length > 0 && <div class="muted">{lab.address.join(", ")}</div>}
        </dd>
        <dt>{t("col.caseType")}</dt>
        <dd>{label(data.caseType)}</dd>
        <dt>{t("case.status")}</dt>
        <dd>{label(data.status)}</dd>
        <dt>{t("case.created")}</dt>
        <dd>{formatDateTime(data.createdAt)}</dd>
        <dt>{t("case.due")}</dt>
        <dd>{formatDay(data.dueDate)}</dd>
        <dt>{t("case.teeth")}</dt>
        <dd>
          FDI {data.teeth.join(", ")} · Universal {data.teethUniversal.join(", ")}
        </dd>
      </dl>
      <h2>{t("print.rx")}</h2>
      <p class="prewrap rx-summary">{data.rxDescription}</p>
    </article>
  );
}
