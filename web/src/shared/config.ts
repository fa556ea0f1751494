// Where the app finds its backend. Locally (make start) nothing is configured: the API, the
// WebSocket and the dev sign-in share the app's origin. In AWS the deploy step writes
// /config.json next to index.html from the stack's outputs (HttpApiUrl, WebSocketUrl,
// HostedUiUrl, UserPoolClientId).
export type AppConfig = {
  apiUrl: string;
  websocketUrl: string | null;
  cognito: { hostedUiUrl: string; clientId: string } | null;
};

let config: AppConfig = { apiUrl: "", websocketUrl: null, cognito: null };

export async function loadConfig(): Promise<AppConfig> {
  try {
    const response = await fetch("/config.json", { cache: "no-store" });
    const type = response.headers.get("content-type") ?? "";
    if (response.ok && type.includes("json")) {
      const body = (await response.json()) as Partial<AppConfig>;
      config = {
        apiUrl: (body.apiUrl ?? "").replace(/\/$/, ""),
        websocketUrl: body.websocketUrl ?? null,
        cognito: body.cognito ?? null,
      };
    }
  } catch {
    // no config: same origin
  }
  return config;
}

export function appConfig(): AppConfig {
  return config;
}
