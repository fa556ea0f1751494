// Sign-in in AWS: Cognito's hosted UI, authorization code grant with PKCE (S256). The app is a
// public client (no secret): the code verifier, kept in sessionStorage for the round trip only,
// is what proves this tab asked for the code.
import { setToken } from "./session";

const VERIFIER = "caseroom.pkce.verifier";
const STATE = "caseroom.pkce.state";

function base64Url(bytes: Uint8Array): string {
  let text = "";
  bytes.forEach((byte) => (text += String.fromCharCode(byte)));
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(32)));
}

export async function codeChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

function redirectUri(): string {
  return `${location.origin}/`;
}

export async function startSignIn(hostedUiUrl: string, clientId: string): Promise<void> {
  const verifier = randomString();
  const state = randomString();
  sessionStorage.setItem(VERIFIER, verifier);
  sessionStorage.setItem(STATE, state);
  const query = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: redirectUri(),
    scope: "openid email profile",
    state,
    code_challenge_method: "S256",
    code_challenge: await codeChallenge(verifier),
  });
  location.assign(`${hostedUiUrl}/oauth2/authorize?${query}`);
}

/** On the way back from the hosted UI (?code=&state=): trade the code for tokens. */
export async function finishSignIn(hostedUiUrl: string, clientId: string): Promise<boolean> {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  if (!code) return false;
  const verifier = sessionStorage.getItem(VERIFIER);
  const expected = sessionStorage.getItem(STATE);
  sessionStorage.removeItem(VERIFIER);
  sessionStorage.removeItem(STATE);
  history.replaceState(null, "", location.pathname + location.hash);
  if (!verifier || !expected || params.get("state") !== expected) throw new Error("sign-in state mismatch");
  const response = await fetch(`${hostedUiUrl}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: clientId,
      code,
      redirect_uri: redirectUri(),
      code_verifier: verifier,
    }),
  });
  if (!response.ok) throw new Error(`sign-in failed (${response.status})`);
  const tokens = (await response.json()) as { id_token?: string };
  if (!tokens.id_token) throw new Error("sign-in returned no ID token");
  // The APIs' JWT authorizers check the ID token (its aud is this client).
  setToken(tokens.id_token);
  return true;
}
