// The rooms of a case: a tab per room the user may read (team, patient) with its unread badge,
// the history (newest at the bottom, "Load older" follows the cursor), live arrival, replies,
// attachments (files of the case), @mentions, editing and deleting one's own messages within
// the window, the typing indicator and the error frames (by code, never echoing the text).
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, ApiError, must, type Me } from "../../shared/api/client";
import { formatDateTime, t, type MessageKey } from "../../shared/i18n";
import type { LiveChannel } from "../../shared/live/socket";
import { EDIT_WINDOW_MS, RoomStore, type Message, type RoomName } from "./roomStore";

type Member = { userId: string; name: string };
const RETRIES = 5;
type CaseFile = { fileId: string; fileName: string };

const ERROR_CODES = new Set([
  "RATE_LIMITED",
  "MESSAGE_TOO_LONG",
  "MESSAGE_EMPTY",
  "REPLY_TO_NOT_FOUND",
  "ATTACHMENT_NOT_FOUND",
  "MENTION_NOT_MEMBER",
  "EDIT_WINDOW_CLOSED",
  "MESSAGE_DELETED",
  "CASE_NOT_FOUND",
  "ROLE_NOT_ALLOWED",
  "NETWORK",
]);

const ROLES = new Set(["clinician", "lab", "patient"]);
function roleLabel(role: string): string {
  return ROLES.has(role) ? t(`chat.role.${role}` as MessageKey) : role;
}

/** An error code in the user's language; unknown codes get a generic sentence with the code. */
export function roomError(code: string): string {
  return ERROR_CODES.has(code) ? t(`chat.error.${code}` as MessageKey) : t("chat.error.other", { code });
}

export function CaseRooms({
  caseId,
  me,
  channel,
  only,
  patientView = false,
}: {
  caseId: string;
  me: Me;
  channel: LiveChannel;
  /** The rooms to offer (the Passport offers only the patient room). */
  only?: RoomName[];
  /** The patient's Passport: downloads go through the Passport's routes; no mentions or case files. */
  patientView?: boolean;
}) {
  const [rooms, setRooms] = useState<RoomName[]>();
  const [failed, setFailed] = useState<string>();
  const [active, setActive] = useState<RoomName>();
  const [, setTick] = useState(0);
  const stores = useMemo(() => new Map<RoomName, RoomStore>(), [caseId]);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    let timer: number | undefined;
    const failedWith = (code: string, status: number) => {
      setFailed(code);
      // A server or network failure (a cold start that timed out) is tried again, a few times.
      if ((status === 0 || status >= 500) && attempt < RETRIES) timer = window.setTimeout(() => setAttempt((n) => n + 1), 1000 * 2 ** attempt);
    };
    api.GET("/cases/{caseId}/rooms", { params: { path: { caseId } } }).then(
      (result) => {
        if (!live) return;
        try {
          const list = must(result).items.filter((item) => !only || only.includes(item.room));
          for (const item of list) {
            const store = new RoomStore(caseId, item.room, channel, me.userId);
            store.unread = item.unread;
            stores.set(item.room, store);
          }
          setFailed(undefined);
          setRooms(list.map((item) => item.room));
          setActive((current) => current ?? list[0]?.room);
        } catch (caught) {
          if (caught instanceof ApiError) failedWith(caught.code, caught.status);
          else failedWith("NETWORK", 0);
        }
      },
      () => live && failedWith("NETWORK", 0),
    );
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [caseId, stores, attempt]);

  // The shared socket: frames go to their room's store; every (re)connection joins every room.
  useEffect(() => {
    if (!rooms) return;
    const rerender = () => setTick((n) => n + 1);
    const unsubscribers = [...stores.values()].map((store) => store.subscribe(rerender));
    const offFrames = channel.subscribe((frame) => {
      for (const store of stores.values()) if (store.onFrame(frame)) break;
    });
    const offState = channel.onState((state) => {
      if (state === "open") stores.forEach((store) => void store.open());
      else stores.forEach((store) => store.dropPending());
    });
    stores.forEach((store) => void store.open());
    return () => {
      unsubscribers.forEach((off) => off());
      offFrames();
      offState();
      stores.forEach((store) => channel.send({ action: "leave", caseId, room: store.room }));
    };
  }, [rooms, stores, channel]);

  useEffect(() => {
    stores.forEach((store) => {
      store.active = store.room === active;
      if (store.active && store.loaded) store.markRead();
    });
  }, [active, rooms]);

  if (failed) {
    return (
      <section class="card chat" aria-labelledby="chat-title">
        <h2 id="chat-title">{t("chat.title")}</h2>
        <p role="alert" class="alert error">{roomError(failed)}</p>
      </section>
    );
  }
  if (!rooms) return null;
  if (rooms.length === 0) return null;
  const store = active ? stores.get(active) : undefined;

  const select = (room: RoomName) => setActive(room);
  const onTabKey = (event: KeyboardEvent, index: number) => {
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    const next = rooms[(index + step + rooms.length) % rooms.length];
    if (!step || !next) return;
    select(next);
    document.getElementById(`chat-tab-${next}`)?.focus();
  };

  return (
    <section class="card chat" aria-labelledby="chat-title" data-testid="rooms">
      <h2 id="chat-title">{t("chat.title")}</h2>
      <div role="tablist" aria-label={t("chat.rooms")} class="tabs">
        {rooms.map((room, index) => {
          const unread = stores.get(room)?.unread ?? 0;
          return (
            <button
              key={room}
              type="button"
              role="tab"
              id={`chat-tab-${room}`}
              aria-selected={room === active}
              aria-controls={`chat-panel-${room}`}
              tabIndex={room === active ? 0 : -1}
              onClick={() => select(room)}
              onKeyDown={(event) => onTabKey(event, index)}
              data-room={room}
            >
              {t(`chat.room.${room}` as MessageKey)}{" "}
              <span class="badge count" data-testid={`unread-${room}`} aria-label={t("chat.unread", { count: unread })}>
                {unread}
              </span>
            </button>
          );
        })}
      </div>
      {store && (
        <div role="tabpanel" id={`chat-panel-${store.room}`} aria-labelledby={`chat-tab-${store.room}`}>
          <RoomPanel key={store.room} store={store} me={me} caseId={caseId} patientView={patientView} />
        </div>
      )}
    </section>
  );
}

function RoomPanel({ store, me, caseId, patientView }: { store: RoomStore; me: Me; caseId: string; patientView: boolean }) {
  const messages = store.list();
  const logRef = useRef<HTMLDivElement>(null);
  const [replyTo, setReplyTo] = useState<Message>();
  const [editing, setEditing] = useState<string>();
  const [members, setMembers] = useState<Member[]>([]);
  const [files, setFiles] = useState<CaseFile[]>();
  const last = messages[messages.length - 1]?.messageId;

  // Newest at the bottom: follow new messages (not the older pages loaded above).
  useEffect(() => {
    const log = logRef.current;
    if (log) log.scrollTop = log.scrollHeight;
  }, [last]);

  useEffect(() => {
    if (patientView) return;
    api.GET("/cases/{caseId}/team", { params: { path: { caseId } } }).then(
      (result) => {
        if (!result.data) return;
        const team = result.data;
        setMembers([{ userId: team.owner.userId, name: team.owner.name }, ...team.members.map((m) => ({ userId: m.userId, name: m.name }))].filter((m) => m.userId !== me.userId));
      },
      () => undefined,
    );
  }, [caseId, patientView]);

  const loadFiles = async () => {
    if (files) return;
    try {
      const galleries = must(await api.GET("/cases/{caseId}/galleries", { params: { path: { caseId } } }));
      const all: CaseFile[] = [];
      for (const gallery of galleries.items) {
        const page = must(
          await api.GET("/cases/{caseId}/galleries/{galleryId}/files", { params: { path: { caseId, galleryId: gallery.galleryId } } }),
        );
        for (const file of page.items) if (file.status === "available") all.push({ fileId: file.fileId, fileName: file.fileName });
      }
      setFiles(all);
    } catch {
      setFiles([]);
    }
  };
  useEffect(() => {
    if (!patientView) void loadFiles();
  }, [caseId, patientView]);

  const fileName = (fileId: string) => files?.find((file) => file.fileId === fileId)?.fileName ?? t("chat.attachment");
  const download = async (fileId: string) => {
    try {
      const link = patientView
        ? must(await api.GET("/me/passport/cases/{caseId}/files/{fileId}/download", { params: { path: { caseId, fileId } } }))
        : must(await api.GET("/cases/{caseId}/files/{fileId}/download", { params: { path: { caseId, fileId } } }));
      const anchor = document.createElement("a");
      anchor.href = link.url;
      anchor.download = link.fileName;
      anchor.rel = "noopener";
      anchor.click();
    } catch (caught) {
      store.fail(caught);
    }
  };
  const typing = store.typingNames();

  return (
    <div class="room">
      {store.olderCursor && (
        <button type="button" class="button secondary" onClick={() => void store.loadOlder()} data-testid="load-older">
          {t("chat.older")}
        </button>
      )}
      <div ref={logRef} class="messages" role="log" aria-label={t("chat.history")} tabIndex={0} data-testid="messages">
        {store.loaded && messages.length === 0 && <p class="muted">{t("chat.empty")}</p>}
        <ol class="plain">
          {messages.map((message) => (
            <MessageItem
              key={message.messageId}
              message={message}
              mine={message.authorId === me.userId}
              me={me}
              parent={message.replyTo ? store.find(message.replyTo) : undefined}
              members={members}
              editing={editing === message.messageId}
              fileName={fileName}
              onReply={() => setReplyTo(message)}
              onEdit={() => setEditing(message.messageId)}
              onCancelEdit={() => setEditing(undefined)}
              onSaveEdit={async (text) => {
                try {
                  await store.edit(message.messageId, text);
                  setEditing(undefined);
                } catch (caught) {
                  store.fail(caught);
                }
              }}
              onDelete={async () => {
                try {
                  await store.remove(message.messageId);
                } catch (caught) {
                  store.fail(caught);
                }
              }}
              onDownload={download}
            />
          ))}
        </ol>
      </div>
      <p class="muted typing" aria-live="polite" data-testid="typing">
        {typing.length ? t("chat.typing", { names: typing.join(", ") }) : ""}
      </p>
      {store.error && (
        <div role="alert" class="alert error row" data-testid="room-error">
          <span>{roomError(store.error)}</span>
          <button type="button" class="link" onClick={() => store.clearError()}>
            {t("chat.dismiss")}
          </button>
        </div>
      )}
      <Composer
        store={store}
        replyTo={replyTo}
        onCancelReply={() => setReplyTo(undefined)}
        onSent={() => setReplyTo(undefined)}
        members={members}
        files={patientView ? [] : (files ?? [])}
      />
    </div>
  );
}

function MessageItem({
  message,
  mine,
  me,
  parent,
  members,
  editing,
  fileName,
  onReply,
  onEdit,
  onCancelEdit,
  onSaveEdit,
  onDelete,
  onDownload,
}: {
  message: Message;
  mine: boolean;
  me: Me;
  parent?: Message;
  members: Member[];
  editing: boolean;
  fileName: (fileId: string) => string;
  onReply: () => void;
  onEdit: () => void;
  onCancelEdit: () => void;
  onSaveEdit: (text: string) => void;
  onDelete: () => void;
  onDownload: (fileId: string) => void;
}) {
  const [text, setText] = useState(message.text);
  useEffect(() => {
    if (editing) setText(message.text);
  }, [editing]);
  const deleted = Boolean(message.deletedAt);
  const withinWindow = Date.now() - new Date(message.createdAt).getTime() < EDIT_WINDOW_MS;
  const mentionsMe = (message.mentions ?? []).includes(me.userId);
  const named = (message.mentions ?? []).map((id) => members.find((m) => m.userId === id)?.name ?? (id === me.userId ? me.name : null)).filter(Boolean);
  const editId = `edit-${message.messageId}`;
  return (
    <li class={`message${mine ? " mine" : ""}${mentionsMe ? " mentioned" : ""}`} data-message-id={message.messageId}>
      <p class="meta">
        <strong>{message.authorName}</strong> <span class="muted">({roleLabel(message.authorRole)})</span>{" "}
        <time dateTime={message.createdAt} class="muted">{formatDateTime(message.createdAt)}</time>
        {message.editedAt && !deleted && <span class="tag"> {t("chat.edited")}</span>}
        {mentionsMe && <span class="tag"> {t("chat.mentionsYou")}</span>}
      </p>
      {message.replyTo && (
        <p class="quote muted">
          {parent ? t("chat.inReplyTo", { name: parent.authorName, text: parent.deletedAt ? t("chat.deleted") : parent.text.slice(0, 80) }) : t("chat.inReplyToOlder")}
        </p>
      )}
      {deleted ? (
        <p class="muted deleted" data-testid="deleted">{t("chat.deleted")}</p>
      ) : editing ? (
        <form
          class="stack"
          onSubmit={(event) => {
            event.preventDefault();
            onSaveEdit(text);
          }}
        >
          <label for={editId}>{t("chat.editLabel")}</label>
          <textarea id={editId} value={text} rows={2} onInput={(event) => setText(event.currentTarget.value)} />
          <div class="row">
            <button type="submit" class="button">{t("chat.save")}</button>
            <button type="button" class="button secondary" onClick={onCancelEdit}>{t("chat.cancel")}</button>
          </div>
        </form>
      ) : (
        <p class="text">{message.text}</p>
      )}
      {!deleted && named.length > 0 && <p class="muted small">{t("chat.mentioned", { names: named.join(", ") })}</p>}
      {!deleted && (message.attachments ?? []).length > 0 && (
        <ul class="plain row attachments" aria-label={t("chat.attachments")}>
          {(message.attachments ?? []).map((fileId) => (
            <li key={fileId}>
              <button type="button" class="link" onClick={() => onDownload(fileId)}>
                {t("chat.download", { name: fileName(fileId) })}
              </button>
            </li>
          ))}
        </ul>
      )}
      {!deleted && !editing && (
        <div class="row actions">
          <button type="button" class="link" onClick={onReply} aria-label={t("chat.replyTo", { name: message.authorName })}>
            {t("chat.reply")}
          </button>
          {mine && withinWindow && (
            <>
              <button type="button" class="link" onClick={onEdit}>{t("chat.edit")}</button>
              <button type="button" class="link" onClick={onDelete}>{t("chat.delete")}</button>
            </>
          )}
        </div>
      )}
    </li>
  );
}

function Composer({
  store,
  replyTo,
  onCancelReply,
  onSent,
  members,
  files,
}: {
  store: RoomStore;
  replyTo?: Message;
  onCancelReply: () => void;
  onSent: () => void;
  members: Member[];
  files: CaseFile[];
}) {
  const [text, setText] = useState("");
  const [mentions, setMentions] = useState<string[]>([]);
  const [attachments, setAttachments] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const id = `compose-${store.room}`;

  const submit = async () => {
    if (busy) return;
    setBusy(true);
    try {
      await store.send({ text, replyTo: replyTo?.messageId, attachments, mentions });
      setText("");
      setMentions([]);
      setAttachments([]);
      onSent();
    } catch (caught) {
      // The draft stays; the error shows by its code only.
      store.fail(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      class="composer stack"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      {replyTo && (
        <p class="quote row" data-testid="replying">
          <span>{t("chat.replyingTo", { name: replyTo.authorName })}</span>
          <button type="button" class="link" onClick={onCancelReply}>{t("chat.cancelReply")}</button>
        </p>
      )}
      <label for={id}>{t(`chat.compose.${store.room}` as MessageKey)}</label>
      <textarea
        id={id}
        rows={2}
        value={text}
        aria-describedby={`${id}-hint`}
        onInput={(event) => {
          setText(event.currentTarget.value);
          store.typing();
        }}
        onKeyDown={(event) => {
          if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            void submit();
          }
        }}
      />
      <p id={`${id}-hint`} class="muted small">
        {t("chat.hint", { count: text.length })}
      </p>
      {(members.length > 0 || files.length > 0) && (
        <div class="row extras">
          {members.length > 0 && (
            <label>
              {t("chat.mention")}
              <select
                value=""
                onChange={(event) => {
                  const member = members.find((m) => m.userId === event.currentTarget.value);
                  if (!member) return;
                  setMentions((current) => (current.includes(member.userId) ? current : [...current, member.userId]));
                  setText((current) => `${current}${current && !current.endsWith(" ") ? " " : ""}@${member.name} `);
                  event.currentTarget.value = "";
                }}
              >
                <option value="">{t("chat.choose")}</option>
                {members.map((member) => (
                  <option key={member.userId} value={member.userId}>{member.name}</option>
                ))}
              </select>
            </label>
          )}
          {files.length > 0 && (
            <label>
              {t("chat.attach")}
              <select
                value=""
                onChange={(event) => {
                  const fileId = event.currentTarget.value;
                  if (fileId) setAttachments((current) => (current.includes(fileId) ? current : [...current, fileId]));
                  event.currentTarget.value = "";
                }}
              >
                <option value="">{t("chat.choose")}</option>
                {files.map((file) => (
                  <option key={file.fileId} value={file.fileId}>{file.fileName}</option>
                ))}
              </select>
            </label>
          )}
        </div>
      )}
      {(mentions.length > 0 || attachments.length > 0) && (
        <ul class="plain row chips" aria-label={t("chat.draftExtras")}>
          {mentions.map((userId) => (
            <li key={userId}>
              <button type="button" class="chip" onClick={() => setMentions((current) => current.filter((id) => id !== userId))}>
                {t("chat.removeMention", { name: members.find((m) => m.userId === userId)?.name ?? userId })}
              </button>
            </li>
          ))}
          {attachments.map((fileId) => (
            <li key={fileId}>
              <button type="button" class="chip" onClick={() => setAttachments((current) => current.filter((id) => id !== fileId))}>
                {t("chat.removeAttachment", { name: files.find((f) => f.fileId === fileId)?.fileName ?? fileId })}
              </button>
            </li>
          ))}
        </ul>
      )}
      <div>
        <button type="submit" class="button" disabled={busy}>{t("chat.send")}</button>
      </div>
    </form>
  );
}
