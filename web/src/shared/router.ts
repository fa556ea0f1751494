// Hash routes (#/cases/ABC): the app and the API share one origin, and a hash never reaches
// the server, so no app path can collide with an API path (GET /cases is the API's).
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { name: "signIn" }
  | { name: "cases" }
  | { name: "newCase" }
  | { name: "case"; caseId: string }
  | { name: "labQueue" }
  | { name: "notifications" }
  | { name: "notFound" }
  | { name: "shared" }
  | { name: "teamRequests"; invitationId?: string }
  | { name: "network" }
  | { name: "settings" }
  | { name: "webhook"; endpointId: string }
  | { name: "labPlanning" }
  | { name: "casePrint"; caseId: string }
  | { name: "patientRoom"; caseId: string }
  | { name: "passport" }
  | { name: "passportCase"; caseId: string }
  | { name: "guest"; token?: string };

export function parse(hash: string): Route {
  const path = hash.replace(/^#/, "") || "/";
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { name: "cases" };
  const [head, second] = parts;
  if (head === "sign-in" && parts.length === 1) return { name: "signIn" };
  if (head === "lab" && parts.length === 1) return { name: "labQueue" };
  if (head === "notifications" && parts.length === 1) return { name: "notifications" };
  if (head === "cases" && parts.length === 1) return { name: "cases" };
  if (head === "cases" && second === "new" && parts.length === 2) return { name: "newCase" };
  if (head === "cases" && second && parts.length === 2) return { name: "case", caseId: second };
  if (head === "shared" && parts.length === 1) return { name: "shared" };
  if (head === "team-requests" && parts.length <= 2) return { name: "teamRequests", invitationId: second };
  if (head === "network" && parts.length === 1) return { name: "network" };
  if (head === "settings" && parts.length === 1) return { name: "settings" };
  if (head === "settings" && second === "webhooks" && parts[2] && parts.length === 3)
    return { name: "webhook", endpointId: parts[2] };
  if (head === "lab" && second === "planning" && parts.length === 2) return { name: "labPlanning" };
  if (head === "cases" && second && parts[2] === "print" && parts.length === 3) return { name: "casePrint", caseId: second };
  if (head === "passport" && second === "cases" && parts.length === 4 && parts[2] && parts[3] === "room") return { name: "patientRoom", caseId: parts[2] };
  if (head === "passport" && parts.length === 1) return { name: "passport" };
  if (head === "passport" && second && parts.length === 2) return { name: "passportCase", caseId: second };
  // A share link: #/guest/<token> (the token stays in the fragment, which no browser sends).
  if (head === "guest" && parts.length <= 2) return second ? { name: "guest", token: second } : { name: "guest" };
  return { name: "notFound" };
}

export function href(route: Route): string {
  switch (route.name) {
    case "signIn":
      return "#/sign-in";
    case "cases":
      return "#/cases";
    case "newCase":
      return "#/cases/new";
    case "case":
      return `#/cases/${encodeURIComponent(route.caseId)}`;
    case "labQueue":
      return "#/lab";
    case "notifications":
      return "#/notifications";
    case "notFound":
      return "#/";
    case "shared":
      return "#/shared";
    case "teamRequests":
      return route.invitationId ? `#/team-requests/${encodeURIComponent(route.invitationId)}` : "#/team-requests";
    case "network":
      return "#/network";
    case "settings":
      return "#/settings";
    case "webhook":
      return `#/settings/webhooks/${encodeURIComponent(route.endpointId)}`;
    case "labPlanning":
      return "#/lab/planning";
    case "casePrint":
      return `#/cases/${encodeURIComponent(route.caseId)}/print`;
    case "patientRoom":
      return `#/passport/cases/${encodeURIComponent(route.caseId)}/room`;
    case "passport":
      return "#/passport";
    case "passportCase":
      return `#/passport/${encodeURIComponent(route.caseId)}`;
    case "guest":
      return "#/guest"; // never with the token: only the link the clinician hands over carries it
  }
}

export function navigate(route: Route): void {
  location.hash = href(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const update = () => setRoute(parse(location.hash));
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}
