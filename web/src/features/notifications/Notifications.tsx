import { api, must } from "../../shared/api/client";
import { formatDateTime, t } from "../../shared/i18n";
import { href } from "../../shared/router";
import { ErrorBox, Loading, ScreenTitle } from "../../shared/ui/components";
import { useAsync } from "../../shared/ui/hooks";

/** The feed (GET /me/notifications); `refreshKey` moves when a live push arrives. */
export function Notifications({ refreshKey, onRead }: { refreshKey: number; onRead: () => void }) {
  const feed = useAsync(async () => must(await api.GET("/me/notifications", { params: { query: {} } })), [refreshKey]);
  const readAll = async () => {
    must(await api.POST("/me/notifications/read-all"));
    feed.reload();
    onRead();
  };
  return (
    <section>
      <div class="row between">
        <ScreenTitle>{t("notif.title")}</ScreenTitle>
        <button type="button" class="button secondary" onClick={readAll}>
          {t("notif.readAll")}
        </button>
      </div>
      {feed.loading && !feed.data && <Loading />}
      {feed.error && <ErrorBox error={feed.error} />}
      {feed.data?.items.length === 0 && <p>{t("notif.empty")}</p>}
      <ul class="plain stack">
        {feed.data?.items.map((item) => (
          <li key={item.notificationId} class={`card${item.read ? "" : " unread"}`} data-notification-id={item.notificationId}>
            <a href={href({ name: "case", caseId: item.caseId })}>{item.title}</a>
            <div class="muted">
              <time dateTime={item.createdAt}>{formatDateTime(item.createdAt)}</time>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

export async function unreadCount(): Promise<number> {
  return must(await api.GET("/me/notifications/unread-count")).unreadCount;
}
