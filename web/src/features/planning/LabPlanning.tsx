// The lab's planning calendar: its blocks from today on (free and booked), grouped by day in the
// user's zone, and a form to publish a free block at a wall time of the lab's zone.
import { useState } from "preact/hooks";
import { api, must, type Schemas } from "../../shared/api/client";
import { formatInstant, t } from "../../shared/i18n";
import { ErrorBox, Loading, Notice, ScreenTitle } from "../../shared/ui/components";
import { useAsync } from "../../shared/ui/hooks";
import { BlockDays } from "./PlanningPanel";

type Block = Schemas["BlockView"];

export function LabPlanning() {
  const [tick, setTick] = useState(0);
  const [extra, setExtra] = useState<{ items: Block[]; cursor: string | null }>({ items: [], cursor: null });
  const labs = useAsync(async () => must(await api.GET("/labs")), []);
  const first = useAsync(async () => {
    const page = must(await api.GET("/lab/planning/blocks", { params: { query: { limit: 100 } } }));
    setExtra({ items: [], cursor: page.nextCursor ?? null });
    return page.items;
  }, [tick]);
  const more = async () => {
    const page = must(await api.GET("/lab/planning/blocks", { params: { query: { limit: 100, cursor: extra.cursor } } }));
    setExtra({ items: [...extra.items, ...page.items], cursor: page.nextCursor ?? null });
  };
  const labZone = labs.data?.items[0]?.timezone;
  const blocks = [...(first.data ?? []), ...extra.items];
  return (
    <section>
      <ScreenTitle>{t("labPlanning.title")}</ScreenTitle>
      <div class="grid">
        <PublishBlock labZone={labZone} onPublished={() => setTick((n) => n + 1)} />
        <section class="card" aria-labelledby="calendar-title">
          <h2 id="calendar-title">{t("labPlanning.calendar")}</h2>
          {first.loading && !first.data && <Loading />}
          {first.error && <ErrorBox error={first.error} />}
          {first.data && blocks.length === 0 && <p>{t("planning.noBlocks")}</p>}
          <BlockDays blocks={blocks} />
          {extra.cursor && (
            <button type="button" class="button secondary" onClick={more}>
              {t("cases.more")}
            </button>
          )}
        </section>
      </div>
    </section>
  );
}

function PublishBlock({ labZone, onPublished }: { labZone: string | undefined; onPublished: () => void }) {
  const [start, setStart] = useState("");
  const [duration, setDuration] = useState(60);
  const [meetingUrl, setMeetingUrl] = useState("");
  const [zone, setZone] = useState<string>();
  const [error, setError] = useState<Error>();
  const [done, setDone] = useState<string>();
  const timezone = zone ?? labZone ?? "";
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setDone(undefined);
    try {
      const block = must(
        await api.POST("/lab/planning/blocks", {
          body: { start, durationMinutes: duration, meetingUrl: meetingUrl.trim(), timezone: timezone || null },
        }),
      );
      setDone(t("labPlanning.published", { when: formatInstant(block.start) }));
      onPublished();
    } catch (caught) {
      setError(caught as Error);
    }
  };
  return (
    <form class="card stack" onSubmit={submit} aria-labelledby="publish-title">
      <h2 id="publish-title">{t("labPlanning.publish")}</h2>
      {done && <Notice>{done}</Notice>}
      {error && <ErrorBox error={error} />}
      <label>
        {t("labPlanning.start")}
        <input type="datetime-local" name="start" required value={start} onInput={(e) => setStart(e.currentTarget.value)} />
      </label>
      <label>
        {t("labPlanning.zone")}
        <input name="timezone" maxLength={64} value={timezone} onInput={(e) => setZone(e.currentTarget.value)} />
      </label>
      <label>
        {t("planning.duration")}
        <select name="duration" value={String(duration)} onChange={(e) => setDuration(Number(e.currentTarget.value))}>
          {[15, 30, 45, 60, 90, 120].map((minutes) => (
            <option key={minutes} value={String(minutes)}>
              {t("planning.minutes", { n: minutes })}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t("labPlanning.meetingUrl")}
        <input type="url" name="meetingUrl" required pattern="https://.*" placeholder="https://" value={meetingUrl} onInput={(e) => setMeetingUrl(e.currentTarget.value)} />
      </label>
      <button type="submit" class="button">
        {t("labPlanning.publishButton")}
      </button>
    </form>
  );
}
