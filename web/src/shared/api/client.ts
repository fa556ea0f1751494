// The one API client: typed by schema.d.ts, which `npm run gen:api` generates from the
// committed openapi.json (the build and the type check regenerate it, so an incompatible API
// change fails `tsc --noEmit`).
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { getToken, signOut } from "../auth/session";
import { appConfig } from "../config";

export type Schemas = components["schemas"];
export type CaseSummary = Schemas["CaseSummary"];
export type CaseView = Schemas["CaseView"];
export type CaseStatus = Schemas["CaseStatus"];
export type Attention = Schemas["Attention"];
export type CaseType = Schemas["CaseType"];
export type FileKind = Schemas["FileKind"];
export type Me = Schemas["Me"];
export type Notification = Schemas["Notification"];

const auth: Middleware = {
  onRequest({ request }) {
    const token = getToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) signOut();
    return response;
  },
};

// baseUrl is read per request: /config.json (AWS) may name another origin for the API.
const apiOrigin: Middleware = {
  onRequest({ request }) {
    const base = appConfig().apiUrl;
    if (!base) return request;
    const url = new URL(request.url);
    return new Request(base + url.pathname + url.search, request);
  },
};

// A read answered 500/502/503/504 (API Gateway's answer to a throttled or timed-out Lambda, e.g.
// during a burst of cold starts) is tried again twice, after 1 s and 3 s. Only GETs: a write
// is never repeated behind the user's back (writes that may be retried carry Idempotency-Key).
const RETRY_DELAYS_MS = [1000, 3000];
const retryReads: Middleware = {
  async onResponse({ request, response }) {
    if (request.method !== "GET" || ![500, 502, 503, 504].includes(response.status)) return response;
    let latest = response;
    for (const delay of RETRY_DELAYS_MS) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      latest = await fetch(new Request(request));
      if (![500, 502, 503, 504].includes(latest.status)) break;
    }
    return latest;
  },
};

export const api = createClient<paths>({ baseUrl: "" });
api.use(apiOrigin, auth, retryReads);

/** The error contract: {code, message, ...}; anything else becomes a generic error. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Unwraps an openapi-fetch result: the data, or an ApiError with the server's stable code. */
export function must<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data !== undefined && result.response.ok) return result.data;
  const body = (result.error ?? {}) as { code?: unknown; message?: unknown };
  throw new ApiError(
    result.response.status,
    typeof body.code === "string" ? body.code : `HTTP_${result.response.status}`,
    typeof body.message === "string" ? body.message : result.response.statusText,
  );
}
