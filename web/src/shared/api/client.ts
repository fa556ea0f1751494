// The one API client: typed by schema.d.ts, which `npm run gen:api` generates from the
// committed openapi.json (the build and the type check regenerate it, so an incompatible API
// change fails `tsc --noEmit`).
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { getToken, signOut } from "../auth/session";
import { appConfig } from "../config";
import { IDEMPOTENT_WRITES } from "./idempotent.gen";

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

// Sends a request again after 1 s and 3 s while `worthRepeating` says so (or the connection is
// still down); the last answer, or undefined when none came.
const RETRY_DELAYS_MS = [1000, 3000];
async function sendAgain(request: Request, worthRepeating: (response: Response) => Promise<boolean>): Promise<Response | undefined> {
  let latest: Response | undefined;
  for (const delay of RETRY_DELAYS_MS) {
    await new Promise((resolve) => setTimeout(resolve, delay));
    try {
      latest = await fetch(request.clone());
    } catch {
      continue;
    }
    if (!(await worthRepeating(latest))) break;
  }
  return latest;
}

// A read answered 500/502/503/504 (API Gateway's answer to a throttled or timed-out Lambda, e.g.
// during a burst of cold starts) is tried again. A write is never repeated behind the user's
// back, except those that carry an Idempotency-Key (below).
const SERVER_ERRORS = [500, 502, 503, 504];
const serverError = async (response: Response) => SERVER_ERRORS.includes(response.status);
const retryReads: Middleware = {
  async onResponse({ request, response }) {
    if (request.method !== "GET" || !(await serverError(response))) return response;
    return (await sendAgain(new Request(request), serverError)) ?? response;
  },
};

// A write that takes an Idempotency-Key (the list comes from openapi.json) gets one unless the
// caller chose it (a form keeps one for its lifetime, so a double submit makes one case). Such a
// write is sent again with the same key, so the server applies it once, when its answer was lost
// (a dropped connection), was a gateway 5xx, or said the first attempt is still in progress.
const RETRIED_WRITE_STATUSES = [502, 503, 504];
async function writeWorthRepeating(response: Response): Promise<boolean> {
  if (RETRIED_WRITE_STATUSES.includes(response.status)) return true;
  if (response.status !== 409) return false;
  const body = (await response.clone().json().catch(() => ({}))) as { code?: unknown };
  return body.code === "REQUEST_IN_PROGRESS";
}
const sentWrites = new Map<string, Request>(); // request id -> a copy to send again (body intact)
const idempotentWrites: Middleware = {
  onRequest({ request, schemaPath, id }) {
    if (!IDEMPOTENT_WRITES.has(`${request.method} ${schemaPath}`)) return request;
    if (!request.headers.has("Idempotency-Key")) request.headers.set("Idempotency-Key", crypto.randomUUID());
    sentWrites.set(id, request.clone());
    return request;
  },
  async onResponse({ response, id }) {
    const copy = sentWrites.get(id);
    sentWrites.delete(id);
    if (!copy || !(await writeWorthRepeating(response))) return response;
    return (await sendAgain(copy, writeWorthRepeating)) ?? response;
  },
  async onError({ error, id }) {
    const copy = sentWrites.get(id);
    sentWrites.delete(id);
    const answer = copy ? await sendAgain(copy, writeWorthRepeating) : undefined;
    return answer ?? (error instanceof Error ? error : new Error(String(error)));
  },
};

export const api = createClient<paths>({ baseUrl: "" });
api.use(apiOrigin, auth, retryReads, idempotentWrites);

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
