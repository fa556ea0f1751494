// Team-Up requests: the invitations waiting for me (GET /me/team-requests), accepted or declined
// here. An invitation email links to #/team-requests/<id>, which highlights that one.
import { useState } from "preact/hooks";
import { api, must, type Schemas } from "../../shared/api/client";
import { formatDateTime, label, t } from "../../shared/i18n";
import { href } from "../../shared/router";
import { ErrorBox, Loading, Notice, ScreenTitle } from "../../shared/ui/components";
import { useAsync } from "../../shared/ui/hooks";

type Request = Schemas["TeamRequestView"];

export function TeamRequests({ invitationId }: { invitationId?: string }) {
  const [extra, setExtra] = useState<{ items: Request[]; cursor: string | null }>({ items: [], cursor: null });
  const [tick, setTick] = useState(0);
  const [error, setError] = useState<Error>();
  const [done, setDone] = useState<{ text: string; caseId?: string }>();
  const first = useAsync(async () => {
    const page = must(await api.GET("/me/team-requests", { params: { query: { limit: 25 } } }));
    setExtra({ items: [], cursor: page.nextCursor ?? null });
    return page.items;
  }, [tick]);
  const more = async () => {
    try {
      const page = must(await api.GET("/me/team-requests", { params: { query: { limit: 25, cursor: extra.cursor } } }));
      setExtra({ items: [...extra.items, ...page.items], cursor: page.nextCursor ?? null });
    } catch (caught) {
      setError(caught as Error);
    }
  };
  const answer = async (request: Request, accept: boolean) => {
    setError(undefined);
    try {
      const path = { params: { path: { invitationId: request.invitationId } } };
      if (accept) {
        must(await api.POST("/me/team-requests/{invitationId}/accept", path));
        setDone({ text: t("requests.accepted", { caseId: request.caseId }), caseId: request.caseId });
      } else {
        must(await api.POST("/me/team-requests/{invitationId}/decline", path));
        setDone({ text: t("requests.declined", { caseId: request.caseId }) });
      }
      setTick((n) => n + 1);
    } catch (caught) {
      setError(caught as Error);
    }
  };
  const items = [...(first.data ?? []), ...extra.items];
  const missing = invitationId && first.data && !items.some((item) => item.invitationId === invitationId);
  return (
    <section>
      <ScreenTitle>{t("requests.title")}</ScreenTitle>
      {done && (
        <Notice>
          {done.text} {done.caseId && <a href={href({ name: "case", caseId: done.caseId })}>{t("requests.open", { caseId: done.caseId })}</a>}
        </Notice>
      )}
      {error && <ErrorBox error={error} />}
      {first.error && <ErrorBox error={first.error} />}
      {first.loading && !first.data && <Loading />}
      {missing && !done && <p class="alert warn">{t("requests.gone")}</p>}
      {first.data && items.length === 0 && <p>{t("requests.empty")}</p>}
      <ul class="plain queue">
        {items.map((request) => (
          <li
            key={request.invitationId}
            class={`card${request.invitationId === invitationId ? " highlight" : ""}`}
            data-invitation-id={request.invitationId}
            aria-current={request.invitationId === invitationId ? "true" : undefined}
          >
            <p>
              {t("requests.line", { name: request.invitedByName, caseId: request.caseId, role: label(request.professionalRole) })}
              <br />
              <span class="muted">{formatDateTime(request.createdAt)}</span>
            </p>
            <div class="row">
              <button type="button" class="button" onClick={() => void answer(request, true)}>
                {t("requests.accept")}
                <span class="visually-hidden"> {request.caseId}</span>
              </button>
              <button type="button" class="button secondary" onClick={() => void answer(request, false)}>
                {t("requests.decline")}
                <span class="visually-hidden"> {request.caseId}</span>
              </button>
            </div>
          </li>
        ))}
      </ul>
      {extra.cursor && (
        <button type="button" class="button secondary" onClick={more}>
          {t("cases.more")}
        </button>
      )}
    </section>
  );
}
