// Webhook endpoints (clinicians): register an https URL for chosen event types (its signing
// secret is shown once), test, rotate the secret, re-enable, delete; each endpoint's delivery
// log with redelivery on its own page.
import { useState } from "preact/hooks";
import { api, must, type Schemas } from "../../shared/api/client";
import { formatDateTime, t } from "../../shared/i18n";
import { href } from "../../shared/router";
import { ErrorBox, Loading, Notice, ScreenTitle } from "../../shared/ui/components";
import { useAsync } from "../../shared/ui/hooks";

type EventType = Schemas["EventType"];
type Delivery = Schemas["DeliveryView"];
const EVENT_TYPES: EventType[] = [
  "CaseCreated",
  "CaseRxModified",
  "CaseStatusChanged",
  "CaseArchived",
  "CaseUnarchived",
  "CaseShipped",
  "FileUploadRequested",
  "FileAdded",
  "FileQuarantined",
  "PlanningScheduled",
  "PlanningCancelled",
  "PlanningHeld",
  "PlanningMissed",
  "CaseMemberInvited",
  "CaseInvitationCancelled",
  "CaseMemberDeclined",
  "CaseMemberJoined",
  "CaseMemberRemoved",
  "CaseMemberLeft",
  "CaseOwnershipTransferred",
];

export function Webhooks() {
  const list = useAsync(async () => must(await api.GET("/webhooks")), []);
  const [error, setError] = useState<Error>();
  const [done, setDone] = useState<string>();
  const [secret, setSecret] = useState<string>();

  const act = async (work: () => Promise<string>) => {
    setError(undefined);
    setDone(undefined);
    try {
      setDone(await work());
      list.reload();
    } catch (caught) {
      setError(caught as Error);
    }
  };
  const path = (endpointId: string) => ({ params: { path: { endpointId } } });

  return (
    <section class="card" aria-labelledby="webhooks-title">
      <h2 id="webhooks-title">{t("hooks.title")}</h2>
      {list.loading && !list.data && <Loading />}
      {list.error && <ErrorBox error={list.error} />}
      {done && <Notice>{done}</Notice>}
      {error && <ErrorBox error={error} />}
      {secret && (
        <div class="alert warn" role="status" data-testid="webhook-secret">
          <p>{t("hooks.secretOnce")}</p>
          <code class="secret">{secret}</code>
        </div>
      )}
      {list.data && list.data.items.length === 0 && <p>{t("hooks.empty")}</p>}
      <ul class="plain queue">
        {list.data?.items.map((endpoint) => (
          <li key={endpoint.endpointId} class="card" data-endpoint-id={endpoint.endpointId}>
            <p>
              <strong class="file-name">{endpoint.url}</strong> {endpoint.description && <span class="muted">· {endpoint.description}</span>}
              <br />
              <span class={endpoint.enabled ? "" : "error-text"}>{endpoint.enabled ? t("hooks.enabled") : t("hooks.disabled", { reason: endpoint.disabledReason ?? "" })}</span>
              <span class="muted"> · {t("hooks.lastSuccess", { when: formatDateTime(endpoint.lastSuccessAt) })}</span>
              <br />
              <span class="muted">{endpoint.eventTypes.join(", ")}</span>
            </p>
            <div class="row">
              <a class="button small secondary" href={href({ name: "webhook", endpointId: endpoint.endpointId })}>
                {t("hooks.deliveries")}
              </a>
              <button
                type="button"
                class="button small secondary"
                onClick={() => void act(async () => (must(await api.POST("/webhooks/{endpointId}/test", path(endpoint.endpointId))), t("hooks.testSent")))}
              >
                {t("hooks.test")}
              </button>
              <button
                type="button"
                class="button small secondary"
                onClick={() =>
                  void act(async () => {
                    const rotated = must(await api.POST("/webhooks/{endpointId}/rotate-secret", { ...path(endpoint.endpointId), body: { overlapMinutes: 1440 } }));
                    setSecret(rotated.secret);
                    return t("hooks.rotated");
                  })
                }
              >
                {t("hooks.rotate")}
              </button>
              {!endpoint.enabled && (
                <button
                  type="button"
                  class="button small secondary"
                  onClick={() => void act(async () => (must(await api.POST("/webhooks/{endpointId}/enable", path(endpoint.endpointId))), t("hooks.enabledDone")))}
                >
                  {t("hooks.enable")}
                </button>
              )}
              <button
                type="button"
                class="button small secondary"
                onClick={() => {
                  if (!confirm(t("hooks.confirmDelete", { url: endpoint.url }))) return;
                  void act(async () => (must(await api.DELETE("/webhooks/{endpointId}", path(endpoint.endpointId))), t("hooks.deleted")));
                }}
              >
                {t("hooks.delete")}
              </button>
            </div>
          </li>
        ))}
      </ul>
      <NewEndpoint
        onCreated={(created) => {
          setSecret(created.secret);
          setDone(t("hooks.created", { url: created.url }));
          list.reload();
        }}
      />
    </section>
  );
}

function NewEndpoint({ onCreated }: { onCreated: (created: Schemas["EndpointCreated"]) => void }) {
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [types, setTypes] = useState<EventType[]>(["CaseStatusChanged"]);
  const [error, setError] = useState<Error>();
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const created = must(await api.POST("/webhooks", { body: { url: url.trim(), description: description.trim(), eventTypes: types } }));
      setUrl("");
      setDescription("");
      onCreated(created);
    } catch (caught) {
      setError(caught as Error);
    }
  };
  return (
    <form class="stack" onSubmit={submit}>
      <h3>{t("hooks.add")}</h3>
      {error && <ErrorBox error={error} />}
      <label>
        {t("hooks.url")}
        <input type="url" name="url" required placeholder="https://" value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
      </label>
      <label>
        {t("hooks.description")}
        <input name="description" maxLength={200} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      </label>
      <fieldset>
        <legend>{t("hooks.events")}</legend>
        <div class="checks">
          {EVENT_TYPES.map((type) => (
            <label key={type} class="check">
              <input
                type="checkbox"
                name="eventTypes"
                value={type}
                checked={types.includes(type)}
                onChange={(e) => setTypes(e.currentTarget.checked ? [...types, type] : types.filter((other) => other !== type))}
              />
              {type}
            </label>
          ))}
        </div>
      </fieldset>
      <button type="submit" class="button" disabled={types.length === 0}>
        {t("hooks.register")}
      </button>
    </form>
  );
}

/** One endpoint's delivery log, newest first, with redelivery. */
export function WebhookDeliveries({ endpointId }: { endpointId: string }) {
  const endpoint = useAsync(async () => must(await api.GET("/webhooks/{endpointId}", { params: { path: { endpointId } } })), [endpointId]);
  const [tick, setTick] = useState(0);
  const [extra, setExtra] = useState<{ items: Delivery[]; cursor: string | null }>({ items: [], cursor: null });
  const [error, setError] = useState<Error>();
  const [done, setDone] = useState<string>();
  const first = useAsync(async () => {
    const page = must(await api.GET("/webhooks/{endpointId}/deliveries", { params: { path: { endpointId }, query: { limit: 25 } } }));
    setExtra({ items: [], cursor: page.nextCursor ?? null });
    return page.items;
  }, [endpointId, tick]);
  const more = async () => {
    try {
      const page = must(await api.GET("/webhooks/{endpointId}/deliveries", { params: { path: { endpointId }, query: { limit: 25, cursor: extra.cursor } } }));
      setExtra({ items: [...extra.items, ...page.items], cursor: page.nextCursor ?? null });
    } catch (caught) {
      setError(caught as Error);
    }
  };
  const redeliver = async (delivery: Delivery) => {
    setError(undefined);
    try {
      must(await api.POST("/webhooks/{endpointId}/deliveries/{deliveryId}/redeliver", { params: { path: { endpointId, deliveryId: delivery.deliveryId } } }));
      setDone(t("hooks.redelivered"));
      setTick((n) => n + 1);
    } catch (caught) {
      setError(caught as Error);
    }
  };
  const items = [...(first.data ?? []), ...extra.items];
  return (
    <section>
      <ScreenTitle>{t("hooks.deliveriesOf", { url: endpoint.data?.url ?? endpointId })}</ScreenTitle>
      <p>
        <a href={href({ name: "settings" })}>{t("hooks.back")}</a>
      </p>
      {done && <Notice>{done}</Notice>}
      {error && <ErrorBox error={error} />}
      {first.error && <ErrorBox error={first.error} />}
      {first.loading && !first.data && <Loading />}
      {first.data && items.length === 0 && <p>{t("hooks.noDeliveries")}</p>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="cases">
            <caption class="visually-hidden">{t("hooks.deliveries")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("hooks.col.when")}</th>
                <th scope="col">{t("hooks.col.event")}</th>
                <th scope="col">{t("hooks.col.status")}</th>
                <th scope="col">{t("hooks.col.attempts")}</th>
                <th scope="col">{t("hooks.col.last")}</th>
                <th scope="col">{t("hooks.col.actions")}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((delivery) => (
                <tr key={delivery.deliveryId} data-delivery-id={delivery.deliveryId} data-status={delivery.status}>
                  <td data-label={t("hooks.col.when")}>{formatDateTime(delivery.createdAt)}</td>
                  <td data-label={t("hooks.col.event")}>
                    {delivery.eventType} <span class="muted">{delivery.caseId}</span>
                  </td>
                  <td data-label={t("hooks.col.status")}>{delivery.status}</td>
                  <td data-label={t("hooks.col.attempts")}>{delivery.attempts}</td>
                  <td data-label={t("hooks.col.last")}>
                    {formatDateTime(delivery.lastAttemptAt)} {delivery.lastStatusCode != null && <span>· HTTP {delivery.lastStatusCode}</span>}
                    {delivery.lastError && <div class="muted">{delivery.lastError}</div>}
                  </td>
                  <td data-label={t("hooks.col.actions")}>
                    <button type="button" class="button small secondary" onClick={() => void redeliver(delivery)}>
                      {t("hooks.redeliver")}
                      <span class="visually-hidden"> {delivery.deliveryId}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {extra.cursor && (
        <button type="button" class="button secondary" onClick={more}>
          {t("cases.more")}
        </button>
      )}
    </section>
  );
}
