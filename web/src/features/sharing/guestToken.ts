// A guest's share-link token. The link is the app's #/guest/<token>: the fragment never reaches
// a server. The page takes the token out of the address bar at once (history.replaceState, so
// it stays out of the history, bookmarks and screenshots) and keeps it in sessionStorage, which
// dies with the tab; it goes to the API only as the X-Share-Token header and is never logged.
const TOKEN = "caseroom.shareToken";
const SESSION = "caseroom.shareSession";

/** The token of this tab's share link; a token just opened from the address bar replaces it. */
export function takeShareToken(fromAddress: string | undefined): string | null {
  if (fromAddress) {
    if (sessionStorage.getItem(TOKEN) !== fromAddress) sessionStorage.removeItem(SESSION);
    sessionStorage.setItem(TOKEN, fromAddress);
    history.replaceState(history.state, "", `${location.pathname}${location.search}#/guest`);
  }
  return sessionStorage.getItem(TOKEN);
}

/** The guest session an email code confirmed (X-Share-Session), for this tab's link. */
export function guestSession(): string | null {
  return sessionStorage.getItem(SESSION);
}

export function setGuestSession(session: string): void {
  sessionStorage.setItem(SESSION, session);
}

export function shareHeaders(token: string): { "x-share-token": string; "x-share-session"?: string } {
  const session = guestSession();
  return session ? { "x-share-token": token, "x-share-session": session } : { "x-share-token": token };
}
