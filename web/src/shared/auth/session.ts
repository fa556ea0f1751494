// The signed-in user's token. sessionStorage: it dies with the tab, and is never shared
// with another origin. Locally it comes from the dev sign-in; in AWS from Cognito (PKCE).
const KEY = "caseroom.idToken";
const listeners = new Set<() => void>();

export function getToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setToken(token: string): void {
  sessionStorage.setItem(KEY, token);
  listeners.forEach((listener) => listener());
}

export function signOut(): void {
  if (sessionStorage.getItem(KEY) === null) return;
  sessionStorage.removeItem(KEY);
  listeners.forEach((listener) => listener());
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export type DevUser = { user: string; name: string; group: string; email: string };

/** Local runtime only: the seeded users of POST /_local/sign-in (absent in AWS: 404). */
export async function devUsers(): Promise<DevUser[] | null> {
  const response = await fetch("/_local/users");
  if (!response.ok) return null;
  const body = (await response.json()) as { users?: DevUser[] };
  return body.users ?? null;
}

export async function devSignIn(user: string): Promise<void> {
  const response = await fetch("/_local/sign-in", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user }),
  });
  if (!response.ok) throw new Error(`sign-in failed (${response.status})`);
  const body = (await response.json()) as { idToken: string };
  setToken(body.idToken);
}
