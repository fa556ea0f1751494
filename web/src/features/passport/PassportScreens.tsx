// The patient's Passport: their cases from every clinic; a case's shared files (previews,
// downloads), who saw their records, and an export of everything shared as one ZIP.
import { useEffect, useState } from "preact/hooks";
import { api, must, type Schemas } from "../../shared/api/client";
import { actionLabel, formatBytes, formatDateTime, t } from "../../shared/i18n";
import { href } from "../../shared/router";
import { FileRows, saveFile, type FileLink } from "../../shared/preview/Preview";
import { ErrorBox, Loading, Notice, ScreenTitle } from "../../shared/ui/components";
import { useAsync } from "../../shared/ui/hooks";

type Summary = Schemas["PatientCaseSummary"];
type Access = Schemas["RecordAccess"];
type Export = Schemas["ExportView"];

export function PassportCases() {
  const [items, setItems] = useState<Summary[]>([]);
  const [cursor, setCursor] = useState<string | null>();
  const first = useAsync(async () => must(await api.GET("/me/passport/cases")), []);
  useEffect(() => {
    if (!first.data) return;
    setItems(first.data.items);
    setCursor(first.data.nextCursor);
  }, [first.data]);
  const more = async () => {
    if (!cursor) return;
    const page = must(await api.GET("/me/passport/cases", { params: { query: { cursor } } }));
    setItems((all) => [...all, ...page.items]);
    setCursor(page.nextCursor);
  };
  return (
    <section>
      <ScreenTitle>{t("passport.title")}</ScreenTitle>
      <p class="muted">{t("passport.intro")}</p>
      {first.loading && !first.data && <Loading />}
      {first.error && <ErrorBox error={first.error} />}
      {first.data && items.length === 0 && <p>{t("passport.empty")}</p>}
      <ul class="plain stack">
        {items.map((item) => (
          <li key={item.caseId} class="card" data-case-id={item.caseId}>
            <a href={href({ name: "passportCase", caseId: item.caseId })} class="case-link">
              {t("passport.caseFrom", { clinic: item.clinicName })}
            </a>
            <div class="muted">
              {t("passport.since", { when: formatDateTime(item.connectedAt) })} · {t("passport.galleryCount", { count: item.sharedGalleries.length })}
            </div>
          </li>
        ))}
      </ul>
      {cursor && (
        <button type="button" class="button secondary" onClick={more}>
          {t("cases.more")}
        </button>
      )}
    </section>
  );
}

export function PassportCase({ caseId }: { caseId: string }) {
  const view = useAsync(async () => must(await api.GET("/me/passport/cases/{caseId}", { params: { path: { caseId } } })), [caseId]);
  if (view.error) return <ErrorBox error={view.error} />;
  if (!view.data) return <Loading />;
  const data = view.data;
  const getLink = async (fileId: string): Promise<FileLink> =>
    must(await api.GET("/me/passport/cases/{caseId}/files/{fileId}/download", { params: { path: { caseId, fileId } } }));
  return (
    <div>
      <p>
        <a href={href({ name: "passport" })}>{t("passport.back")}</a>
      </p>
      <ScreenTitle>{t("passport.caseFrom", { clinic: data.clinicName })}</ScreenTitle>
      <p>
        <a href={href({ name: "patientRoom", caseId })}>{t("passport.chat")}</a>
      </p>
      <div class="grid">
        <div class="stack">
          {data.galleries.map((gallery) => (
            <section class="card" key={gallery.galleryId} aria-labelledby={`pg-${gallery.galleryId}`}>
              <h2 id={`pg-${gallery.galleryId}`}>{gallery.name}</h2>
              <FileRows files={gallery.files} getLink={getLink} />
            </section>
          ))}
          {data.galleries.length === 0 && <p class="muted">{t("passport.nothingShared")}</p>}
        </div>
        <div class="stack">
          <ExportPanel caseId={caseId} />
          <WhoSaw caseId={caseId} />
        </div>
      </div>
    </div>
  );
}

const EXPORT_POLL_MS = 2000;

function ExportPanel({ caseId }: { caseId: string }) {
  const [job, setJob] = useState<Export>();
  const [error, setError] = useState<Error>();
  useEffect(() => {
    if (!job || job.status !== "building") return;
    const timer = setTimeout(async () => {
      try {
        setJob(must(await api.GET("/me/passport/cases/{caseId}/exports/{exportId}", { params: { path: { caseId, exportId: job.exportId } } })));
      } catch (caught) {
        setError(caught as Error);
      }
    }, EXPORT_POLL_MS);
    return () => clearTimeout(timer);
  }, [job, caseId]);
  const start = async () => {
    setError(undefined);
    try {
      setJob(must(await api.POST("/me/passport/cases/{caseId}/exports", { params: { path: { caseId } } })));
    } catch (caught) {
      setError(caught as Error);
    }
  };
  return (
    <section class="card" aria-labelledby="export-title">
      <h2 id="export-title">{t("passport.export")}</h2>
      <p class="muted">{t("passport.exportWhat")}</p>
      {error && <ErrorBox error={error} />}
      <div role="status" data-testid="export-status" data-status={job?.status ?? ""}>
        {job?.status === "building" && t("passport.exportBuilding")}
        {job?.status === "failed" && t("passport.exportFailed")}
        {job?.status === "ready" && t("passport.exportReady", { count: job.fileCount, size: formatBytes(job.sizeBytes) })}
      </div>
      {job?.status === "ready" && job.url ? (
        <button type="button" class="button" onClick={() => job.url && saveFile({ url: job.url, fileName: `caseroom-${caseId}.zip` })}>
          {t("passport.exportDownload")}
        </button>
      ) : (
        <button type="button" class="button secondary" disabled={job?.status === "building"} onClick={start}>
          {t("passport.exportStart")}
        </button>
      )}
    </section>
  );
}

function WhoSaw({ caseId }: { caseId: string }) {
  const [items, setItems] = useState<Access[]>([]);
  const [cursor, setCursor] = useState<string | null>();
  const first = useAsync(async () => must(await api.GET("/me/passport/cases/{caseId}/access-log", { params: { path: { caseId } } })), [caseId]);
  useEffect(() => {
    if (!first.data) return;
    setItems(first.data.items);
    setCursor(first.data.nextCursor);
  }, [first.data]);
  const more = async () => {
    if (!cursor) return;
    const page = must(await api.GET("/me/passport/cases/{caseId}/access-log", { params: { path: { caseId }, query: { cursor } } }));
    setItems((all) => [...all, ...page.items]);
    setCursor(page.nextCursor);
  };
  return (
    <section class="card" aria-labelledby="who-title">
      <h2 id="who-title">{t("passport.whoSaw")}</h2>
      {first.error && <ErrorBox error={first.error} />}
      {first.data && items.length === 0 && <Notice>{t("passport.nobody")}</Notice>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table data-testid="who-saw">
            <thead>
              <tr>
                <th scope="col">{t("audit.when")}</th>
                <th scope="col">{t("audit.who")}</th>
                <th scope="col">{t("audit.action")}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((entry, index) => (
                <tr key={`${entry.at}-${index}`}>
                  <td>{formatDateTime(entry.at)}</td>
                  <td>
                    {entry.who} <span class="muted">({entry.role})</span>
                  </td>
                  <td>{actionLabel(entry.action)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && (
        <button type="button" class="button secondary" onClick={more}>
          {t("cases.more")}
        </button>
      )}
    </section>
  );
}
