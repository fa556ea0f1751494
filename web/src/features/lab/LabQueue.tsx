import { useState } from "preact/hooks";
import { api, must, type CaseSummary } from "../../shared/api/client";
import { formatDay, label, t } from "../../shared/i18n";
import { href } from "../../shared/router";
import { AttentionDot, ErrorBox, Loading, ScreenTitle } from "../../shared/ui/components";
import { useAsync } from "../../shared/ui/hooks";

/** The lab's queue, most in need of attention first (the API's order); paging by nextCursor. */
export function LabQueue({ refreshKey }: { refreshKey: number }) {
  const [extra, setExtra] = useState<{ items: CaseSummary[]; cursor: string | null }>({ items: [], cursor: null });
  const first = useAsync(async () => {
    const page = must(await api.GET("/lab/cases", { params: { query: { limit: 25 } } }));
    setExtra({ items: [], cursor: page.nextCursor ?? null });
    return page.items;
  }, [refreshKey]);
  const more = async () => {
    const page = must(await api.GET("/lab/cases", { params: { query: { limit: 25, cursor: extra.cursor } } }));
    setExtra({ items: [...extra.items, ...page.items], cursor: page.nextCursor ?? null });
  };
  const items = [...(first.data ?? []), ...extra.items];
  return (
    <section>
      <ScreenTitle>{t("lab.title")}</ScreenTitle>
      {first.loading && !first.data && <Loading />}
      {first.error && <ErrorBox error={first.error} />}
      <ul class="plain queue">
        {items.map((item) => (
          <li key={item.caseId} class={`card attention-row-${item.attention}`} data-case-id={item.caseId}>
            <AttentionDot attention={item.attention} text={label(item.attention)} />{" "}
            <a href={href({ name: "case", caseId: item.caseId })}>{item.caseId}</a> · {item.patientName} · {label(item.caseType)} ·{" "}
            <strong>{label(item.status)}</strong> · {t("col.dueDate")} {formatDay(item.dueDate)}
          </li>
        ))}
      </ul>
      {first.data && items.length === 0 && <p>{t("cases.empty")}</p>}
      {extra.cursor && (
        <button type="button" class="button secondary" onClick={more}>
          {t("cases.more")}
        </button>
      )}
    </section>
  );
}
