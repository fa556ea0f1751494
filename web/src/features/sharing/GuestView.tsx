// The page a guest opens from a share link, without an account: the link's galleries with
// previews and downloads, the email one-time code when the link asks for it, and a clear page
// when the link has expired, was revoked or does not exist.
import { useState } from "preact/hooks";
import { api, ApiError, must } from "../../shared/api/client";
import { formatDateTime, t } from "../../shared/i18n";
import { FileRows, type FileLink } from "../../shared/preview/Preview";
import { ErrorBox, Loading, Notice, ScreenTitle } from "../../shared/ui/components";
import { useAsync } from "../../shared/ui/hooks";
import { setGuestSession, shareHeaders, takeShareToken } from "./guestToken";

export function GuestView({ tokenFromAddress }: { tokenFromAddress?: string }) {
  const [token] = useState(() => takeShareToken(tokenFromAddress));
  const [ended, setEnded] = useState<ApiError>();
  const view = useAsync(async () => {
    if (!token) return null;
    return must(await api.GET("/shared", { params: { header: shareHeaders(token) } }));
  }, [token]);

  if (!token) return <LinkEnded reason="missing" />;
  const failure = ended ?? (view.error instanceof ApiError ? view.error : undefined);
  if (failure?.code === "SHARE_LINK_EXPIRED") return <LinkEnded reason="expired" />;
  if (failure?.code === "SHARE_LINK_REVOKED") return <LinkEnded reason="revoked" />;
  if (failure?.code === "SHARE_LINK_NOT_FOUND") return <LinkEnded reason="missing" />;
  if (failure?.code === "EMAIL_CODE_REQUIRED") return <EmailCodeStep token={token} onConfirmed={view.reload} />;
  if (view.error) return <ErrorBox error={view.error} />;
  if (!view.data) return <Loading />;

  const shared = view.data;
  const getLink = async (fileId: string): Promise<FileLink> => {
    try {
      return must(await api.GET("/shared/files/{fileId}/download", { params: { path: { fileId }, header: shareHeaders(token) } }));
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 410) setEnded(caught);
      throw caught;
    }
  };
  return (
    <div class="guest">
      <ScreenTitle>{shared.patientName ? t("guest.titleNamed", { name: shared.patientName }) : t("guest.title")}</ScreenTitle>
      <p class="muted">
        {t("guest.case", { caseId: shared.caseId })} · {t("guest.until", { when: formatDateTime(shared.expiresAt) })}
      </p>
      {shared.note && (
        <p class="alert ok" data-testid="guest-note">
          {shared.note}
        </p>
      )}
      {shared.galleries.map((gallery) => (
        <section class="card" key={gallery.galleryId} aria-labelledby={`g-${gallery.galleryId}`}>
          <h2 id={`g-${gallery.galleryId}`}>{gallery.name}</h2>
          <FileRows files={gallery.files} getLink={getLink} />
        </section>
      ))}
      <p class="muted">{t("guest.readOnly")}</p>
    </div>
  );
}

function LinkEnded({ reason }: { reason: "expired" | "revoked" | "missing" }) {
  return (
    <section class="card narrow" data-testid="link-ended" data-reason={reason}>
      <ScreenTitle>{t(`guest.${reason}.title`)}</ScreenTitle>
      <p>{t(`guest.${reason}.text`)}</p>
    </section>
  );
}

function EmailCodeStep({ token, onConfirmed }: { token: string; onConfirmed: () => void }) {
  const [email, setEmail] = useState("");
  const [code, setCode] = useState("");
  const [challenge, setChallenge] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const headers = { "x-share-token": token };
  const send = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const sent = must(await api.POST("/shared/email-code", { params: { header: headers }, body: { email } }));
      setChallenge(sent.challengeId);
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  };
  const confirm = async (event: Event) => {
    event.preventDefault();
    if (!challenge) return;
    setBusy(true);
    setError(undefined);
    try {
      const confirmed = must(await api.POST("/shared/email-code/confirm", { params: { header: headers }, body: { challengeId: challenge, code } }));
      setGuestSession(confirmed.session);
      onConfirmed();
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card narrow">
      <ScreenTitle>{t("guest.code.title")}</ScreenTitle>
      <p>{t("guest.code.why")}</p>
      {error && <ErrorBox error={error} />}
      {!challenge ? (
        <form onSubmit={send} class="stack">
          <label>
            {t("guest.code.email")}
            <input type="email" required autoComplete="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
          </label>
          <button type="submit" class="button" disabled={busy}>
            {t("guest.code.send")}
          </button>
        </form>
      ) : (
        <form onSubmit={confirm} class="stack">
          <Notice>{t("guest.code.sent", { email })}</Notice>
          <label>
            {t("guest.code.code")}
            <input inputMode="numeric" pattern="[0-9]{6}" maxLength={6} required autoComplete="one-time-code" value={code} onInput={(e) => setCode(e.currentTarget.value)} />
          </label>
          <div class="row">
            <button type="submit" class="button" disabled={busy}>
              {t("guest.code.confirm")}
            </button>
            <button type="button" class="button secondary" onClick={() => setChallenge(undefined)}>
              {t("guest.code.again")}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
