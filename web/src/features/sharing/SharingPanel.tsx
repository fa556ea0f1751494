// Sharing on a case. The owner connects (and disconnects) the patient's Passport, saying first
// what connecting shares, chooses the galleries the patient sees, lets team members make share
// links or not, and makes links for guests: create (the URL is shown once), revoke, each link's
// access log. An active member sees the links they made, and makes some when the owner allows it.
import { useEffect, useState } from "preact/hooks";
import { api, must, type Schemas } from "../../shared/api/client";
import { formatDateTime, t } from "../../shared/i18n";
import { ErrorBox, Loading, Notice } from "../../shared/ui/components";
import { useAsync } from "../../shared/ui/hooks";

type Gallery = Schemas["GalleryView"];
type Link = Schemas["ShareLinkView"];
type Created = Schemas["CreatedShareLink"];
const AUTO_SHARED = "initial-documentation";

export function SharingPanel({ caseId, owner }: { caseId: string; owner: boolean }) {
  // Opened on demand: the case page's first load stays the files, details and timeline.
  const [open, setOpen] = useState(false);
  return (
    <section class="card sharing" aria-labelledby="sharing-title">
      <div class="row between">
        <h2 id="sharing-title">{t("share.title")}</h2>
        <button type="button" class="button small secondary" aria-expanded={open} aria-controls="sharing-body" data-testid="sharing-toggle" onClick={() => setOpen(!open)}>
          {open ? t("share.hide") : t("share.show")}
        </button>
      </div>
      <p class="muted">{t("share.what")}</p>
      <div id="sharing-body">{open && <SharingBody caseId={caseId} owner={owner} />}</div>
    </section>
  );
}

function SharingBody({ caseId, owner }: { caseId: string; owner: boolean }) {
  const galleries = useAsync(async () => must(await api.GET("/cases/{caseId}/galleries", { params: { path: { caseId } } })).items, [caseId]);
  const policy = useAsync(async () => must(await api.GET("/cases/{caseId}/share-links/policy", { params: { path: { caseId } } })), [caseId]);
  if (galleries.error) return <ErrorBox error={galleries.error} />;
  if (policy.error) return <ErrorBox error={policy.error} />;
  if (!galleries.data || !policy.data) return <Loading />;
  return (
    <>
      {owner && <PatientPassport caseId={caseId} galleries={galleries.data} />}
      {owner && <SharePolicy caseId={caseId} membersMayCreate={policy.data.membersMayCreate} />}
      <ShareLinks caseId={caseId} galleries={galleries.data} canCreate={owner || policy.data.membersMayCreate} />
    </>
  );
}

/** The owner's choice: may active members of the team create share links (and revoke their own)? */
function SharePolicy({ caseId, membersMayCreate }: { caseId: string; membersMayCreate: boolean }) {
  const [allowed, setAllowed] = useState(membersMayCreate);
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const change = async (wanted: boolean) => {
    setBusy(true);
    setError(undefined);
    setAllowed(wanted); // shown at once; put back if the server refuses
    try {
      setAllowed(must(await api.PUT("/cases/{caseId}/share-links/policy", { params: { path: { caseId } }, body: { membersMayCreate: wanted } })).membersMayCreate);
    } catch (caught) {
      setAllowed(!wanted);
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="stack" data-testid="share-policy">
      {error && <ErrorBox error={error} />}
      <label class="check">
        <input type="checkbox" name="members-may-create" checked={allowed} disabled={busy} onChange={(e) => void change(e.currentTarget.checked)} />
        {t("share.membersMayCreate")}
      </label>
      <p class="muted">{t("share.membersMayCreateWhat")}</p>
    </div>
  );
}

function PatientPassport({ caseId, galleries }: { caseId: string; galleries: Gallery[] }) {
  const passport = useAsync(async () => {
    const result = await api.GET("/cases/{caseId}/passport", { params: { path: { caseId } } });
    if (result.response.status === 404 && (result.error as { code?: string } | undefined)?.code === "PATIENT_NOT_CONNECTED") return null;
    return must(result);
  }, [caseId]);
  const [email, setEmail] = useState("");
  const [justShared, setJustShared] = useState<string[]>();
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const initial = useAsync(
    async () => must(await api.GET("/cases/{caseId}/galleries/{galleryId}/files", { params: { path: { caseId, galleryId: AUTO_SHARED } } })).items,
    [caseId],
  );
  const connect = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const connected = must(await api.POST("/cases/{caseId}/passport", { params: { path: { caseId } }, body: { email } }));
      setJustShared(connected.nowSharedFiles.map((file) => file.fileName));
      passport.reload();
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  };
  const toggle = async (galleryId: string, share: boolean) => {
    setError(undefined);
    try {
      const params = { params: { path: { caseId, galleryId } } };
      must(share ? await api.PUT("/cases/{caseId}/passport/galleries/{galleryId}", params) : await api.DELETE("/cases/{caseId}/passport/galleries/{galleryId}", params));
      passport.reload();
    } catch (caught) {
      setError(caught as Error);
    }
  };
  const [confirming, setConfirming] = useState(false);
  const disconnect = async () => {
    setBusy(true);
    setError(undefined);
    try {
      must(await api.DELETE("/cases/{caseId}/passport", { params: { path: { caseId } } }));
      setConfirming(false);
      setJustShared(undefined);
      passport.reload();
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  };
  const available = (initial.data ?? []).filter((file) => file.status === "available");
  return (
    <div class="stack" data-testid="passport-panel">
      <h3>{t("share.patient")}</h3>
      {error && <ErrorBox error={error} />}
      {passport.error && <ErrorBox error={passport.error} />}
      {passport.loading && passport.data === undefined && <Loading />}
      {passport.data === null && !initial.data && !initial.error && <Loading />}
      {initial.error && <ErrorBox error={initial.error} />}
      {passport.data === null && initial.data && (
        <form onSubmit={connect} class="stack">
          <p class="alert warn" id="connect-warning" data-testid="connect-warning">
            {available.length
              ? t("share.connectWarning", { count: available.length, files: available.map((file) => file.fileName).join(", ") })
              : t("share.connectWarningEmpty")}
          </p>
          <label>
            {t("share.patientEmail")}
            <input type="email" required autoComplete="off" aria-describedby="connect-warning" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
          </label>
          <button type="submit" class="button" disabled={busy}>
            {t("share.connect")}
          </button>
        </form>
      )}
      {passport.data && (
        <>
          <p>
            {t("share.connected", { email: passport.data.patientEmail, when: formatDateTime(passport.data.connectedAt) })}
          </p>
          {justShared && <Notice>{justShared.length ? t("share.nowShared", { files: justShared.join(", ") }) : t("share.nowSharedNone")}</Notice>}
          <fieldset>
            <legend>{t("share.patientSees")}</legend>
            {galleries.map((gallery) => {
              const shared = passport.data?.sharedGalleries.includes(gallery.galleryId) ?? false;
              return (
                <div key={gallery.galleryId}>
                  <label class="check">
                    <input type="checkbox" checked={shared} data-gallery={gallery.galleryId} onChange={(e) => toggle(gallery.galleryId, e.currentTarget.checked)} />
                    {gallery.name}
                  </label>
                </div>
              );
            })}
          </fieldset>
          {!confirming && (
            <button type="button" class="button small secondary" data-testid="disconnect-patient" onClick={() => setConfirming(true)}>
              {t("share.disconnect")}
            </button>
          )}
          {confirming && (
            <div class="alert warn stack" role="alertdialog" aria-labelledby="disconnect-question" data-testid="disconnect-confirm">
              <p id="disconnect-question">{t("share.disconnectWhat", { email: passport.data.patientEmail })}</p>
              <div class="row">
                <button type="button" class="button small" disabled={busy} onClick={() => void disconnect()}>
                  {t("share.disconnectConfirm")}
                </button>
                <button type="button" class="button small secondary" onClick={() => setConfirming(false)}>
                  {t("case.cancel")}
                </button>
              </div>
            </div>
          )}
        </>
      )}
    </div>
  );
}

const LIFETIMES_H = [1, 4, 12, 24];

function ShareLinks({ caseId, galleries, canCreate }: { caseId: string; galleries: Gallery[]; canCreate: boolean }) {
  const links = useAsync(async () => must(await api.GET("/cases/{caseId}/share-links", { params: { path: { caseId } } })), [caseId]);
  const [chosen, setChosen] = useState<string[]>([]);
  const [hours, setHours] = useState(24);
  const [note, setNote] = useState("");
  const [showName, setShowName] = useState(false);
  const [needCode, setNeedCode] = useState(false);
  const [created, setCreated] = useState<Created>();
  const [error, setError] = useState<Error>();
  const [openLog, setOpenLog] = useState<string>();
  const create = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const body = {
        ...(chosen.length ? { galleryIds: chosen } : {}),
        expiresInMinutes: hours * 60,
        ...(note.trim() ? { note: note.trim() } : {}),
        showPatientName: showName,
        requireEmailCode: needCode,
      };
      setCreated(must(await api.POST("/cases/{caseId}/share-links", { params: { path: { caseId } }, body })));
      setNote("");
      links.reload();
    } catch (caught) {
      setError(caught as Error);
    }
  };
  const revoke = async (link: Link) => {
    setError(undefined);
    try {
      must(await api.POST("/cases/{caseId}/share-links/{linkId}/revoke", { params: { path: { caseId, linkId: link.linkId } } }));
      if (created?.linkId === link.linkId) setCreated(undefined);
      links.reload();
    } catch (caught) {
      setError(caught as Error);
    }
  };
  return (
    <div class="stack" data-testid="share-links">
      <h3>{t("share.links")}</h3>
      <p class="muted">{t("share.linksWhat")}</p>
      {error && <ErrorBox error={error} />}
      {!canCreate && <p class="muted" data-testid="links-not-allowed">{t("share.membersMayNot")}</p>}
      {canCreate && (
      <form onSubmit={create} class="stack">
        <fieldset>
          <legend>{t("share.galleries")}</legend>
          {galleries.map((gallery) => (
            <div key={gallery.galleryId}>
              <label class="check">
                <input
                  type="checkbox"
                  name="link-gallery"
                  value={gallery.galleryId}
                  checked={chosen.includes(gallery.galleryId)}
                  onChange={(e) => {
                    const on = e.currentTarget.checked;
                    setChosen((all) => (on ? [...all, gallery.galleryId] : all.filter((id) => id !== gallery.galleryId)));
                  }}
                />
                {gallery.name}
              </label>
            </div>
          ))}
          <p class="muted">{t("share.wholeCase")}</p>
        </fieldset>
        <label>
          {t("share.lifetime")}
          <select value={hours} onChange={(e) => setHours(Number(e.currentTarget.value))}>
            {LIFETIMES_H.map((h) => (
              <option key={h} value={h}>
                {t("share.hours", { count: h })}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("share.note")}
          <input type="text" maxLength={280} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
        </label>
        <label class="check">
          <input type="checkbox" name="show-patient-name" checked={showName} onChange={(e) => setShowName(e.currentTarget.checked)} />
          {t("share.showName")}
        </label>
        <label class="check">
          <input type="checkbox" name="require-email-code" checked={needCode} onChange={(e) => setNeedCode(e.currentTarget.checked)} />
          {t("share.needCode")}
        </label>
        <button type="submit" class="button">
          {t("share.create")}
        </button>
      </form>
      )}
      {created && <CreatedLink link={created} />}
      {links.error && <ErrorBox error={links.error} />}
      <ul class="plain stack">
        {links.data?.items.map((link) => (
          <li key={link.linkId} class="link-row" data-link-id={link.linkId} data-state={link.state}>
            <div>
              <strong>{t(`share.state.${link.state as "active" | "expired" | "revoked"}`)}</strong> · {t("share.expires", { when: formatDateTime(link.expiresAt) })}
              {link.note && <span> · {link.note}</span>}
            </div>
            <div class="muted">
              {link.galleryIds ? link.galleryIds.map((id) => galleries.find((g) => g.galleryId === id)?.name ?? id).join(", ") : t("share.whole")}
              {" · "}
              {link.firstOpenedAt ? t("share.firstOpened", { when: formatDateTime(link.firstOpenedAt) }) : t("share.notOpened")}
            </div>
            <div class="row">
              {link.state === "active" && (
                <button type="button" class="button small secondary" onClick={() => revoke(link)} aria-label={t("share.revokeLabel", { when: formatDateTime(link.expiresAt) })}>
                  {t("share.revoke")}
                </button>
              )}
              <button type="button" class="button small secondary" aria-expanded={openLog === link.linkId} onClick={() => setOpenLog(openLog === link.linkId ? undefined : link.linkId)}>
                {t("share.log")}
              </button>
            </div>
            {openLog === link.linkId && <LinkLog caseId={caseId} linkId={link.linkId} />}
          </li>
        ))}
      </ul>
    </div>
  );
}

function CreatedLink({ link }: { link: Created }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => setCopied(false), [link.linkId]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link.url);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div class="alert ok stack" data-testid="created-link">
      <label>
        {t("share.url")}
        <input type="text" readOnly value={link.url} data-testid="share-url" onFocus={(e) => e.currentTarget.select()} />
      </label>
      <p class="muted">{t("share.onlyOnce")}</p>
      <button type="button" class="button small" onClick={copy}>
        {copied ? t("share.copied") : t("share.copy")}
      </button>
    </div>
  );
}

function LinkLog({ caseId, linkId }: { caseId: string; linkId: string }) {
  const log = useAsync(async () => must(await api.GET("/cases/{caseId}/share-links/{linkId}/access-log", { params: { path: { caseId, linkId } } })), [caseId, linkId]);
  if (log.error) return <ErrorBox error={log.error} />;
  if (!log.data) return <Loading />;
  if (log.data.items.length === 0) return <p class="muted">{t("share.logEmpty")}</p>;
  return (
    <div class="table-wrap">
      <table data-testid="link-log">
        <thead>
          <tr>
            <th scope="col">{t("audit.when")}</th>
            <th scope="col">{t("audit.action")}</th>
            <th scope="col">{t("share.client")}</th>
          </tr>
        </thead>
        <tbody>
          {log.data.items.map((entry, index) => (
            <tr key={`${entry.at}-${index}`}>
              <td>{formatDateTime(entry.at)}</td>
              <td>
                {entry.action}
                {entry.fileId && <span class="muted"> · {entry.fileId}</span>}
                {entry.guestEmail && <span class="muted"> · {entry.guestEmail}</span>}
              </td>
              <td class="muted">
                {entry.sourceIp} · {entry.userAgent}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
