import { api, must } from "../api/client";
import { appConfig } from "../config";

// The live channel: one WebSocket to /ws?ticket=<ticket>, reconnecting with backoff. Browsers
// cannot send headers on the upgrade, and the long-lived ID token must never go into a URL
// (proxies and logs keep URLs): each (re)connection first asks POST /realtime/tickets over
// HTTPS for a single-use ticket that lives 60 seconds. Messages go to every subscriber as
// parsed JSON.
type Listener = (message: Record<string, unknown>) => void;

export type LiveState = "connecting" | "open" | "closed";

const HEARTBEAT_MS = 4 * 60 * 1000;

export class LiveChannel {
  private socket: WebSocket | null = null;
  private listeners = new Set<Listener>();
  private stateListeners = new Set<(state: LiveState) => void>();
  private retry = 0;
  private timer: number | undefined;
  private stopped = false;
  private heartbeat: number | undefined;

  constructor(private readonly url: () => Promise<string | null>) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    this.socket?.close();
    this.socket = null;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onState(listener: (state: LiveState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Sends a frame when the socket is open; false when it is not (the caller falls back to HTTPS). */
  send(frame: Record<string, unknown>): boolean {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  private emitState(state: LiveState): void {
    this.stateListeners.forEach((listener) => listener(state));
  }

  private connect(): void {
    if (this.stopped) return;
    this.emitState("connecting");
    this.url().then(
      (url) => {
        if (url && !this.stopped) this.open(url);
        else if (!this.stopped) this.emitState("closed");
      },
      () => this.retryLater(),
    );
  }

  private retryLater(): void {
    this.emitState("closed");
    if (this.stopped) return;
    const delay = Math.min(30_000, 1000 * 2 ** this.retry);
    this.retry += 1;
    this.timer = window.setTimeout(() => this.connect(), delay);
  }

  private open(url: string): void {
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      this.retry = 0;
      // API Gateway closes a connection idle for 10 minutes: ping every 4.
      clearInterval(this.heartbeat);
      this.heartbeat = window.setInterval(() => this.send({ action: "ping" }), HEARTBEAT_MS);
      this.emitState("open");
    };
    socket.onmessage = (event) => {
      try {
        const message = JSON.parse(String(event.data)) as Record<string, unknown>;
        this.listeners.forEach((listener) => listener(message));
      } catch {
        // not JSON: not for us
      }
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      clearInterval(this.heartbeat);
      this.socket = null;
      this.retryLater();
    };
  }
}

// A fresh single-use ticket for every connection (null when signed out).
export async function ticketSocketUrl(): Promise<string | null> {
  const { ticket } = must(await api.POST("/realtime/tickets"));
  const query = `?ticket=${encodeURIComponent(ticket)}`;
  const configured = appConfig().websocketUrl;
  if (configured) return `${configured}${query}`;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws${query}`;
}
