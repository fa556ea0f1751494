// My network: the people I have worked with on a case team (GET /me/network), searched by name
// prefix or email, paged by nextCursor; removing someone takes them out of my suggestions.
import { useState } from "preact/hooks";
import { api, must, type Schemas } from "../../shared/api/client";
import { formatDateTime, t } from "../../shared/i18n";
import { ErrorBox, Loading, Notice, ScreenTitle } from "../../shared/ui/components";
import { useAsync } from "../../shared/ui/hooks";

type Contact = Schemas["ContactView"];

export function Network() {
  const [query, setQuery] = useState("");
  const [submitted, setSubmitted] = useState("");
  const [tick, setTick] = useState(0);
  const [extra, setExtra] = useState<{ items: Contact[]; cursor: string | null }>({ items: [], cursor: null });
  const [error, setError] = useState<Error>();
  const [done, setDone] = useState<string>();
  const q = submitted.trim() || null;
  const first = useAsync(async () => {
    const page = must(await api.GET("/me/network", { params: { query: { q, limit: 25 } } }));
    setExtra({ items: [], cursor: page.nextCursor ?? null });
    return page.items;
  }, [q, tick]);
  const more = async () => {
    try {
      const page = must(await api.GET("/me/network", { params: { query: { q, limit: 25, cursor: extra.cursor } } }));
      setExtra({ items: [...extra.items, ...page.items], cursor: page.nextCursor ?? null });
    } catch (caught) {
      setError(caught as Error);
    }
  };
  const remove = async (contact: Contact) => {
    if (!confirm(t("network.confirmRemove", { name: contact.name }))) return;
    setError(undefined);
    try {
      must(await api.DELETE("/me/network/{userId}", { params: { path: { userId: contact.userId } } }));
      setDone(t("network.removed", { name: contact.name }));
      setTick((n) => n + 1);
    } catch (caught) {
      setError(caught as Error);
    }
  };
  const items = [...(first.data ?? []), ...extra.items];
  return (
    <section>
      <ScreenTitle>{t("network.title")}</ScreenTitle>
      <p class="muted">{t("network.help")}</p>
      <form
        class="row end"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          setSubmitted(query);
        }}
      >
        <label class="grow">
          {t("network.query")}
          <input type="search" name="q" maxLength={100} value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
        </label>
        <button type="submit" class="button">
          {t("network.search")}
        </button>
      </form>
      {done && <Notice>{done}</Notice>}
      {error && <ErrorBox error={error} />}
      {first.error && <ErrorBox error={first.error} />}
      {first.loading && !first.data && <Loading />}
      {first.data && items.length === 0 && <p>{t("network.empty")}</p>}
      <ul class="plain queue">
        {items.map((contact) => (
          <li key={contact.userId} class="card row between" data-contact-id={contact.userId}>
            <span>
              <strong>{contact.name}</strong> <span class="muted">{contact.email}</span>
              <br />
              <span class="muted">{t("network.since", { when: formatDateTime(contact.since) })}</span>
            </span>
            <button type="button" class="button small secondary" onClick={() => void remove(contact)}>
              {t("network.remove", { name: contact.name })}
            </button>
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
