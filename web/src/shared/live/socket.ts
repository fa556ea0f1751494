import { appConfig } from "../config";

// The live channel: one WebSocket to /ws?token=<idToken> (browsers cannot send headers on the
// upgrade), reconnecting with backoff. Messages go to every subscriber as parsed JSON.
type Listener = (message: Record<string, unknown>) => void;

export type LiveState = "connecting" | "open" | "closed";

export class LiveChannel {
  private socket: WebSocket | null = null;
  private listeners = new Set<Listener>();
  private stateListeners = new Set<(state: LiveState) => void>();
  private retry = 0;
  private timer: number | undefined;
  private stopped = false;

  constructor(
    private readonly url: (token: string) => string,
    private readonly token: () => string | null,
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
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

  private emitState(state: LiveState): void {
    this.stateListeners.forEach((listener) => listener(state));
  }

  private connect(): void {
    const token = this.token();
    if (!token || this.stopped) return;
    this.emitState("connecting");
    const socket = new WebSocket(this.url(token));
    this.socket = socket;
    socket.onopen = () => {
      this.retry = 0;
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
      this.socket = null;
      this.emitState("closed");
      if (this.stopped) return;
      const delay = Math.min(30_000, 1000 * 2 ** this.retry);
      this.retry += 1;
      this.timer = window.setTimeout(() => this.connect(), delay);
    };
  }
}

export function sameOriginSocketUrl(token: string): string {
  const configured = appConfig().websocketUrl;
  if (configured) return `${configured}?token=${encodeURIComponent(token)}`;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws?token=${encodeURIComponent(token)}`;
}
