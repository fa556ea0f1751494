// One room of a case, kept outside the components so switching tabs keeps its history and the
// live frames of a room that is not on screen still count as unread.
//
// History: GET .../messages pages newest first (the cursor loads older pages); live: the room's
// pushes over the shared WebSocket after a `join`. Every (re)connection joins again, and on
// `joined` the store asks `?after=<last id seen>` (oldest first), so nothing sent while the
// socket was down is missed; messages are kept by id, so nothing shows twice.
import { api, ApiError, must, type Schemas } from "../../shared/api/client";
import type { LiveChannel } from "../../shared/live/socket";

export type RoomName = Schemas["Room"];
export type Message = Schemas["MessageView"];
/** Which of two copies of a message is newer: a delete follows an edit, an edit the sending. */
function version(message: Message): string {
  return message.deletedAt ?? message.editedAt ?? message.createdAt;
}

export type Draft = { text: string; replyTo?: string; attachments: string[]; mentions: string[] };

/** A message may be edited or deleted by its author this long after it was sent (the server decides). */
export const EDIT_WINDOW_MS = 15 * 60 * 1000;
/** How far this device's clock may be from the server's when judging that window. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const PAGE = 30;
const TYPING_SHOWN_MS = 5000;
const TYPING_EVERY_MS = 3000;

let refs = 0;

export class RoomStore {
  private messages = new Map<string, Message>();
  private listeners = new Set<() => void>();
  private pending = new Map<string, { resolve: () => void; reject: (error: ApiError) => void }>();
  private typists = new Map<string, { name: string; until: number }>();
  private lastTyping = 0;
  private retries = 0;
  olderCursor: string | null | undefined = undefined;
  loaded = false;
  unread = 0;
  active = false;
  /** The last error frame or HTTP error of this room (a stable code; never what was sent). */
  error: string | null = null;

  constructor(
    readonly caseId: string,
    readonly room: RoomName,
    private readonly channel: LiveChannel,
    private readonly myId: string,
  ) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.listeners.forEach((listener) => listener());
  }

  list(): Message[] {
    return [...this.messages.values()].sort((a, b) => (a.messageId < b.messageId ? -1 : 1));
  }

  find(messageId: string): Message | undefined {
    return this.messages.get(messageId);
  }

  typingNames(now = Date.now()): string[] {
    return [...this.typists.values()].filter((typist) => typist.until > now).map((typist) => typist.name);
  }

  private lastId(): string | undefined {
    let last: string | undefined;
    for (const id of this.messages.keys()) if (!last || id > last) last = id;
    return last;
  }

  private upsert(message: Message): boolean {
    const known = this.messages.get(message.messageId);
    // A history page fetched before an edit or delete may arrive after its push: never let an
    // older version of a message replace a newer one.
    if (!known || version(message) >= version(known)) this.messages.set(message.messageId, message);
    this.typists.delete(message.authorId);
    return !known;
  }

  private path() {
    return { path: { caseId: this.caseId, room: this.room } };
  }

  /** Shows an error by its stable code (a network failure is NETWORK). */
  fail(caught: unknown): void {
    this.error = caught instanceof ApiError ? caught.code : "NETWORK";
    this.changed();
  }

  /** The newest page (once), then join the room's live pushes if the socket is open. */
  async open(join = true): Promise<void> {
    if (!this.loaded) {
      try {
        const page = must(await api.GET("/cases/{caseId}/rooms/{room}/messages", { params: { ...this.path(), query: { limit: PAGE } } }));
        let fresh = 0;
        for (const message of page.items) if (this.upsert(message) && message.authorId !== this.myId) fresh += 1;
        // A refetch after a join (nothing seen before it): what it brings is new to this user.
        if (!join && !this.active) this.unread += fresh;
        this.olderCursor = page.nextCursor ?? null;
        this.loaded = true;
      } catch (caught) {
        // Shown; a server or network failure is tried again a few times (and on every reconnection).
        this.fail(caught);
        const transient = !(caught instanceof ApiError) || caught.status >= 500;
        if (transient && this.retries < 5) {
          this.retries += 1;
          window.setTimeout(() => void this.open(join), 1000 * 2 ** this.retries);
        }
        return;
      }
      if (this.error === "NETWORK" || this.error?.startsWith("HTTP_5")) this.error = null;
      if (!join && this.active) this.markRead();
      this.changed();
    }
    if (join) this.join();
  }

  join(): void {
    this.channel.send({ action: "join", caseId: this.caseId, room: this.room, ref: `join:${this.room}` });
  }

  async loadOlder(): Promise<void> {
    if (!this.olderCursor) return;
    try {
      const page = must(
        await api.GET("/cases/{caseId}/rooms/{room}/messages", {
          params: { ...this.path(), query: { limit: PAGE, cursor: this.olderCursor } },
        }),
      );
      page.items.forEach((message) => this.upsert(message));
      this.olderCursor = page.nextCursor ?? null;
    } catch (caught) {
      this.fail(caught);
      return;
    }
    this.changed();
  }

  /** Keeps what a page brought; the messages of others it adds are unread unless the room is on screen. */
  private take(items: Message[]): void {
    let fresh = 0;
    for (const message of items) if (this.upsert(message) && message.authorId !== this.myId) fresh += 1;
    if (!this.active) this.unread += fresh;
  }

  /** After a (re)join: everything after the last message seen, oldest first, page by page. A
   * push is lost with a dropped socket, and an edit or delete changes a message already seen, so
   * the messages still inside the edit window are fetched again too. */
  async resume(now = Date.now()): Promise<void> {
    if (!this.lastId()) {
      // Nothing seen yet: whatever arrived before the join is the newest page.
      this.loaded = false;
      return this.open(false);
    }
    const settledBefore = now - EDIT_WINDOW_MS - CLOCK_SKEW_MS;
    let after = this.list().filter((message) => Date.parse(message.createdAt) < settledBefore).pop()?.messageId;
    let cursor: string | undefined;
    try {
      if (!after) {
        // Every message seen may still change: the newest page holds them (and any new ones).
        const page = must(await api.GET("/cases/{caseId}/rooms/{room}/messages", { params: { ...this.path(), query: { limit: 100 } } }));
        this.take(page.items);
        after = this.lastId();
      }
      for (;;) {
        const page = must(
          await api.GET("/cases/{caseId}/rooms/{room}/messages", {
            params: { ...this.path(), query: { after, limit: 100, ...(cursor ? { cursor } : {}) } },
          }),
        );
        this.take(page.items);
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
    } catch (caught) {
      this.fail(caught);
      return;
    }
    this.changed();
    if (this.active) this.markRead();
  }

  /** A frame of the shared socket; false when it is not this room's. */
  onFrame(frame: Record<string, unknown>): boolean {
    const type = String(frame.type ?? "");
    const ref = typeof frame.ref === "string" ? frame.ref : "";
    if (type === "error" && ref.startsWith(`send:${this.room}:`)) {
      this.pending.get(ref)?.reject(new ApiError(0, String(frame.code ?? "ERROR"), ""));
      this.pending.delete(ref);
      return true;
    }
    if (type === "error" && ref.endsWith(`:${this.room}`)) {
      this.error = String(frame.code ?? "ERROR");
      this.changed();
      return true;
    }
    if (type === "sent" && this.pending.has(ref)) {
      this.pending.get(ref)?.resolve();
      this.pending.delete(ref);
      return true;
    }
    const message = frame.message as Message | undefined;
    const about = message ?? (frame as { caseId?: unknown; room?: unknown });
    if (String(about.caseId ?? "").toUpperCase() !== this.caseId.toUpperCase() || about.room !== this.room) return false;
    if (type === "joined") {
      void this.resume();
    } else if (type === "typing" && frame.userId !== this.myId) {
      this.typists.set(String(frame.userId), { name: String(frame.name ?? ""), until: Date.now() + TYPING_SHOWN_MS });
      this.changed();
      window.setTimeout(() => this.changed(), TYPING_SHOWN_MS + 50);
    } else if (message && (type === "message" || type === "message.edited" || type === "message.deleted")) {
      const fresh = this.upsert(message);
      if (fresh && type === "message" && message.authorId !== this.myId) {
        if (this.active) this.markRead();
        else this.unread += 1;
      }
      this.changed();
    }
    return true;
  }

  /** Sends over the socket when it is open (the reply clears the draft), else over HTTPS. */
  send(draft: Draft): Promise<void> {
    this.error = null;
    const body = {
      text: draft.text,
      ...(draft.replyTo ? { replyTo: draft.replyTo } : {}),
      ...(draft.attachments.length ? { attachments: draft.attachments } : {}),
      ...(draft.mentions.length ? { mentions: draft.mentions } : {}),
    };
    refs += 1;
    const ref = `send:${this.room}:${refs}`;
    this.lastTyping = 0; // the next keystroke says "typing" again
    const frame = { action: "send", caseId: this.caseId, room: this.room, ref, ...body };
    if (this.channel.send(frame)) {
      return new Promise((resolve, reject) => this.pending.set(ref, { resolve, reject }));
    }
    return api.POST("/cases/{caseId}/rooms/{room}/messages", { params: this.path(), body }).then((result) => {
      this.upsert(must(result));
      this.changed();
    });
  }

  /** The socket closed: a send waiting for its reply fails (its draft stays). If the server had
   * stored it, the resume after the next join brings it. */
  dropPending(): void {
    this.pending.forEach(({ reject }) => reject(new ApiError(0, "NETWORK", "")));
    this.pending.clear();
  }

  typing(): void {
    const now = Date.now();
    if (now - this.lastTyping < TYPING_EVERY_MS) return;
    this.lastTyping = now;
    this.channel.send({ action: "typing", caseId: this.caseId, room: this.room, ref: `typing:${this.room}` });
  }

  async edit(messageId: string, text: string): Promise<void> {
    const result = await api.PATCH("/cases/{caseId}/rooms/{room}/messages/{messageId}", {
      params: { path: { caseId: this.caseId, room: this.room, messageId } },
      body: { text },
    });
    this.upsert(must(result));
    this.changed();
  }

  async remove(messageId: string): Promise<void> {
    const result = await api.DELETE("/cases/{caseId}/rooms/{room}/messages/{messageId}", {
      params: { path: { caseId: this.caseId, room: this.room, messageId } },
    });
    this.upsert(must(result));
    this.changed();
  }

  /** The read marker on the newest message (over the socket; the rooms list counts from it). */
  markRead(): void {
    const last = this.lastId();
    this.unread = 0;
    if (last) this.channel.send({ action: "read", caseId: this.caseId, room: this.room, messageId: last, ref: `read:${this.room}` });
    this.changed();
  }

  clearError(): void {
    this.error = null;
    this.changed();
  }
}
