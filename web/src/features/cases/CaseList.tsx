import { useEffect, useState } from "preact/hooks";
import { api, must, type CaseSummary, type Schemas } from "../../shared/api/client";
import { formatDateTime, formatDay, label, t, type MessageKey } from "../../shared/i18n";
import { href } from "../../shared/router";
import { AttentionDot, ErrorBox, Loading, ScreenTitle } from "../../shared/ui/components";

type Sort = Schemas["SortColumn"];
type Order = Schemas["SortOrder"];

const COLUMNS: { sort: Sort; title: MessageKey }[] = [
  { sort: "attention", title: "col.attention" },
  { sort: "caseId", title: "col.caseId" },
  { sort: "patient", title: "col.patient" },
  { sort: "status", title: "col.status" },
  { sort: "lastModified", title: "col.lastModified" },
  { sort: "dueDate", title: "col.dueDate" },
];

/** The clinician's cases (or, with `shared`, the cases shared with them through a team): most in
 * need of attention first; any column header sorts; archived toggle; "Load more" follows nextCursor. */
export function CaseList({ shared = false }: { shared?: boolean }) {
  const [sort, setSort] = useState<Sort>("attention");
  const [order, setOrder] = useState<Order>("asc");
  const [archived, setArchived] = useState(false);
  const [items, setItems] = useState<CaseSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<Error>();

  const load = async (after: string | null, replace: boolean) => {
    setLoading(true);
    setError(undefined);
    try {
      const page = must(
        await api.GET(shared ? "/shared/cases" : "/cases", {
          params: { query: { sort, order, archived, limit: 25, cursor: after ?? undefined } },
        }),
      );
      setItems((previous) => (replace ? page.items : [...previous, ...page.items]));
      setCursor(page.nextCursor ?? null);
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    void load(null, true);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [sort, order, archived, shared]);

  const title: MessageKey = shared ? "shared.title" : "cases.title";

  const sortBy = (column: Sort) => {
    if (column === sort) setOrder(order === "asc" ? "desc" : "asc");
    else {
      setSort(column);
      setOrder("asc");
    }
  };

  return (
    <section>
      <div class="row between">
        <ScreenTitle>{t(title)}</ScreenTitle>
        {!shared && (
          <a class="button" href={href({ name: "newCase" })}>
            {t("nav.newCase")}
          </a>
        )}
      </div>
      <label class="check">
        <input type="checkbox" checked={archived} onChange={(e) => setArchived(e.currentTarget.checked)} />
        {t("cases.archived")}
      </label>
      {error && <ErrorBox error={error} />}
      <div class="table-wrap">
        <table class="cases">
          <caption class="visually-hidden">{t(title)}</caption>
          <thead>
            <tr>
              {COLUMNS.map((column) => (
                <th
                  key={column.sort}
                  scope="col"
                  aria-sort={column.sort === sort ? (order === "asc" ? "ascending" : "descending") : undefined}
                >
                  <button type="button" class="sort" data-sort={column.sort} onClick={() => sortBy(column.sort)}>
                    {t(column.title)}
                    <span aria-hidden="true">{column.sort === sort ? (order === "asc" ? " ▲" : " ▼") : ""}</span>
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.caseId} class={`attention-row-${item.attention}`} data-case-id={item.caseId}>
                <td data-label={t("col.attention")}>
                  <AttentionDot attention={item.attention} text={label(item.attention)} />
                </td>
                <td data-label={t("col.caseId")}>
                  <a href={href({ name: "case", caseId: item.caseId })}>{item.caseId}</a>
                </td>
                <td data-label={t("col.patient")}>{item.patientName}</td>
                <td data-label={t("col.status")}>{label(item.status)}</td>
                <td data-label={t("col.lastModified")}>{formatDateTime(item.lastModified)}</td>
                <td data-label={t("col.dueDate")}>{formatDay(item.dueDate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {!loading && items.length === 0 && !error && <p>{t(shared ? "shared.empty" : "cases.empty")}</p>}
      {loading && <Loading />}
      {cursor && !loading && (
        <button type="button" class="button secondary" onClick={() => load(cursor, false)}>
          {t("cases.more")}
        </button>
      )}
    </section>
  );
}
