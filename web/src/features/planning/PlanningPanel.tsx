// Planning on the case page. The clinician (the case's owner) sees the lab's free blocks in their
// own time zone and books one; everyone on the case sees the booked session with calendar links
// (.ics download, Google Calendar); the lab marks it held, cancels or moves it.
import { useState } from "preact/hooks";
import { ApiError, api, must, type CaseView, type Me, type Schemas } from "../../shared/api/client";
import { saveText } from "../../shared/download";
import { formatDay, formatInstant, localDayKey, t, timeZone } from "../../shared/i18n";
import { ErrorBox, Loading, Notice } from "../../shared/ui/components";
import { useAsync } from "../../shared/ui/hooks";

type Block = Schemas["BlockView"];
type Session = Schemas["SessionView"];
const BOOKABLE = new Set(["Ready to Plan", "Planning No Show"]);

/** Blocks grouped by their day in the user's zone, days in order. */
export function byDay(blocks: Block[]): [string, Block[]][] {
  const days = new Map<string, Block[]>();
  for (const block of [...blocks].sort((a, b) => a.start.localeCompare(b.start))) {
    const key = localDayKey(block.start);
    days.set(key, [...(days.get(key) ?? []), block]);
  }
  return [...days.entries()];
}

export function PlanningPanel({ view, me, onChanged }: { view: CaseView; me: Me; onChanged: () => void }) {
  const caseId = view.caseId;
  const isOwner = view.ownerId === me.userId;
  const isLab = me.role === "lab";
  const [error, setError] = useState<Error>();
  const [done, setDone] = useState<string>();
  const [booking, setBooking] = useState<Schemas["BookingView"]>();
  // Only a case that has (had) a session or may book one asks the planning API: most case pages
  // then cost no call to it at all.
  const relevant = !!view.planningSessionId || BOOKABLE.has(view.status);
  const session = useAsync(async () => {
    if (!relevant) return null;
    try {
      return must(await api.GET("/cases/{caseId}/planning", { params: { path: { caseId } } }));
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === "NO_PLANNING_SESSION") return null;
      throw caught;
    }
  }, [caseId, view.version, relevant]);
  const active = session.data && session.data.status === "booked" ? session.data : null;
  const wantsBlocks = (isOwner && BOOKABLE.has(view.status) && !active) || (isLab && !!active);
  const blocks = useAsync(async () => {
    if (!wantsBlocks) return [];
    const page = must(await api.GET("/cases/{caseId}/planning/blocks", { params: { path: { caseId }, query: { limit: 50 } } }));
    return page.items.filter((block) => block.status === "free");
  }, [caseId, view.version, wantsBlocks]);

  const run = async (work: () => Promise<string>) => {
    setError(undefined);
    setDone(undefined);
    try {
      setDone(await work());
      onChanged();
    } catch (caught) {
      setError(caught as Error);
    }
  };

  const book = (block: Block) =>
    run(async () => {
      const result = must(await api.POST("/cases/{caseId}/planning", { params: { path: { caseId } }, body: { blockId: block.blockId } }));
      setBooking(result);
      return t("planning.booked", { when: formatInstant(result.session.start) });
    });

  const downloadIcs = async () => {
    setError(undefined);
    try {
      const text = must(await api.GET("/cases/{caseId}/planning/ics", { params: { path: { caseId } }, parseAs: "text" }));
      saveText(text, `caseroom-${caseId}-planning.ics`, "text/calendar");
    } catch (caught) {
      setError(caught as Error);
    }
  };

  return (
    <section class="card" aria-labelledby="planning-title" data-testid="planning-panel">
      <h2 id="planning-title">{t("planning.title")}</h2>
      <p class="muted">{t("planning.zone", { zone: timeZone() })}</p>
      {done && <Notice>{done}</Notice>}
      {error && <ErrorBox error={error} />}
      {session.error && <ErrorBox error={session.error} />}
      {session.loading && session.data === undefined && <Loading />}
      {session.data && <SessionDetails session={session.data} />}
      {active && (
        <div class="row">
          {booking ? (
            <button type="button" class="button secondary" onClick={() => saveText(booking.ics, booking.icsFileName, "text/calendar")}>
              {t("planning.ics")}
            </button>
          ) : (
            <button type="button" class="button secondary" onClick={downloadIcs}>
              {t("planning.ics")}
            </button>
          )}
          <a class="button secondary" href={active.googleCalendarUrl} target="_blank" rel="noopener noreferrer">
            {t("planning.google")}
          </a>
        </div>
      )}
      {session.data === null && !(isOwner && BOOKABLE.has(view.status)) && <p>{t("planning.none")}</p>}
      {isOwner && BOOKABLE.has(view.status) && !active && (
        <>
          <h3>{t("planning.free")}</h3>
          {blocks.loading && !blocks.data && <Loading />}
          {blocks.error && <ErrorBox error={blocks.error} />}
          {blocks.data && blocks.data.length === 0 && <p>{t("planning.noBlocks")}</p>}
          <BlockDays blocks={blocks.data ?? []} action={(block) => (
            <button type="button" class="button small" data-block-id={block.blockId} onClick={() => void book(block)}>
              {t("planning.book", { when: formatInstant(block.start) })}
            </button>
          )} />
        </>
      )}
      {isLab && active && <LabSessionActions caseId={caseId} version={view.version} blocks={blocks.data ?? []} run={run} />}
    </section>
  );
}

function SessionDetails({ session }: { session: Session }) {
  return (
    <dl class="details" data-testid="planning-session">
      <dt>{t("planning.status")}</dt>
      <dd>{t(`planning.s.${session.status}` as "planning.s.booked")}</dd>
      <dt>{t("planning.when")}</dt>
      <dd>
        <time dateTime={session.start}>{formatInstant(session.start)}</time>
      </dd>
      <dt>{t("planning.labTime")}</dt>
      <dd>
        {formatInstant(session.start, session.timezone)} ({session.timezone})
      </dd>
      <dt>{t("planning.duration")}</dt>
      <dd>{t("planning.minutes", { n: session.durationMinutes })}</dd>
      <dt>{t("planning.meeting")}</dt>
      <dd>
        <a href={session.meetingUrl} target="_blank" rel="noopener noreferrer">
          {session.meetingUrl}
        </a>
      </dd>
    </dl>
  );
}

/** Blocks as a small calendar: one group per day in the user's zone. */
export function BlockDays({ blocks, action }: { blocks: Block[]; action?: (block: Block) => preact.ComponentChildren }) {
  return (
    <ol class="plain calendar">
      {byDay(blocks).map(([day, items]) => (
        <li key={day} class="day">
          <h4>{formatDay(day)}</h4>
          <ul class="plain">
            {items.map((block) => (
              <li key={block.blockId} class={`block block-${block.status}`} data-block-id={block.blockId} data-status={block.status}>
                <time dateTime={block.start}>{formatInstant(block.start)}</time>
                <span class="muted"> · {t("planning.minutes", { n: block.durationMinutes })}</span>
                {block.status !== "free" && <span class="muted"> · {t("planning.taken")}</span>}
                {action && <div>{action(block)}</div>}
              </li>
            ))}
          </ul>
        </li>
      ))}
    </ol>
  );
}

function LabSessionActions({ caseId, version, blocks, run }: { caseId: string; version: number; blocks: Block[]; run: (work: () => Promise<string>) => Promise<void> }) {
  const [reason, setReason] = useState("");
  const [blockId, setBlockId] = useState("");
  const chosen = blockId || blocks[0]?.blockId || "";
  return (
    <div class="stack">
      <h3>{t("planning.labActions")}</h3>
      <button
        type="button"
        class="button secondary"
        onClick={() =>
          void run(async () => {
            must(await api.POST("/cases/{caseId}/planning/held", { params: { path: { caseId } }, body: { version } }));
            return t("planning.heldDone");
          })
        }
      >
        {t("planning.held")}
      </button>
      {blocks.length > 0 && (
        <form
          class="row end"
          onSubmit={(event) => {
            event.preventDefault();
            void run(async () => {
              const moved = must(await api.POST("/cases/{caseId}/planning/reschedule", { params: { path: { caseId } }, body: { blockId: chosen, version } }));
              return t("planning.moved", { when: formatInstant(moved.start) });
            });
          }}
        >
          <label class="grow">
            {t("planning.moveTo")}
            <select name="rescheduleBlock" value={chosen} onChange={(e) => setBlockId(e.currentTarget.value)}>
              {blocks.map((block) => (
                <option key={block.blockId} value={block.blockId}>
                  {formatInstant(block.start)}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" class="button secondary">
            {t("planning.reschedule")}
          </button>
        </form>
      )}
      <form
        class="row end"
        onSubmit={(event) => {
          event.preventDefault();
          void run(async () => {
            must(await api.POST("/cases/{caseId}/planning/cancel", { params: { path: { caseId } }, body: { version, reason: reason.trim() || null } }));
            return t("planning.cancelled");
          });
        }}
      >
        <label class="grow">
          {t("lab.reason")}
          <input name="cancelReason" maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        </label>
        <button type="submit" class="button secondary">
          {t("planning.cancel")}
        </button>
      </form>
    </div>
  );
}
