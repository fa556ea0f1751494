import { useEffect, useMemo, useState } from "preact/hooks";
import { api, must, type Me } from "../shared/api/client";
import { getToken, onSessionChange, signOut } from "../shared/auth/session";
import { locale, onLocaleChange, setLocale, t, type Locale } from "../shared/i18n";
import { LiveChannel, ticketSocketUrl } from "../shared/live/socket";
import { href, navigate, useRoute } from "../shared/router";
import { ErrorBox, Loading, ScreenTitle } from "../shared/ui/components";
import { SignIn } from "../features/auth/SignIn";
import { CaseList } from "../features/cases/CaseList";
import { NewCase } from "../features/cases/NewCase";
import { LabQueue } from "../features/lab/LabQueue";
import { Notifications, unreadCount } from "../features/notifications/Notifications";
import { PassportCase, PassportCases } from "../features/passport/PassportScreens";
import { GuestView } from "../features/sharing/GuestView";
import { CaseScreen } from "./CaseScreen";
import { PrintConfirmation } from "../features/cases/PrintConfirmation";
import { LabPlanning } from "../features/planning/LabPlanning";
import { Settings } from "../features/settings/Settings";
import { WebhookDeliveries } from "../features/settings/Webhooks";
import { Network } from "../features/team/Network";
import { TeamRequests } from "../features/team/TeamRequests";
import { PatientRoom } from "../features/chat/PatientRoom";

function useRerenderOn(subscribe: (listener: () => void) => () => void): void {
  const [, setTick] = useState(0);
  useEffect(() => subscribe(() => setTick((n) => n + 1)), [subscribe]);
}

export function App() {
  useRerenderOn(onLocaleChange);
  useRerenderOn(onSessionChange);
  const route = useRoute();
  const token = getToken();
  const [me, setMe] = useState<Me>();
  const [error, setError] = useState<Error>();
  const [unread, setUnread] = useState(0);
  const [live, setLive] = useState<{ title: string; tick: number }>({ title: "", tick: 0 });

  useEffect(() => {
    document.documentElement.lang = locale();
  }, []);

  useEffect(() => {
    setMe(undefined);
    if (!token) return;
    api.GET("/me").then(
      (result) => setMe(must(result)),
      (caught: unknown) => setError(caught as Error),
    );
  }, [token]);

  const channel = useMemo(() => new LiveChannel(ticketSocketUrl), []);
  useEffect(() => {
    if (!me) return;
    const refreshUnread = () => unreadCount().then(setUnread, () => undefined);
    refreshUnread();
    const unsubscribe = channel.subscribe((message) => {
      if (message.type !== "notification") return;
      setLive((previous) => ({ title: `${String(message.caseId ?? "")} · ${String(message.eventType ?? "")}`, tick: previous.tick + 1 }));
      refreshUnread();
    });
    channel.start();
    return () => {
      unsubscribe();
      channel.stop();
    };
  }, [me, channel]);

  // A share link's guest has no account: the page needs no sign-in (the link's token authorizes).
  if (route.name === "guest") return <Shell><GuestView tokenFromAddress={route.token} /></Shell>;
  if (!token) {
    return (
      <Shell>
        <SignIn onSignedIn={() => navigate(route.name === "signIn" ? { name: "cases" } : route)} />
      </Shell>
    );
  }
  if (error) return <Shell><ErrorBox error={error} /></Shell>;
  if (!me) return <Shell><Loading /></Shell>;

  const isLab = me.role === "lab";
  const isPatient = me.role === "patient";
  const home = isLab ? <LabQueue refreshKey={live.tick} /> : isPatient ? <PassportCases /> : <CaseList />;
  let screen;
  switch (route.name) {
    case "signIn":
    case "cases":
      screen = route.name === "cases" && !isLab && !isPatient ? <CaseList key={live.tick} /> : home;
      break;
    case "labQueue":
      screen = <LabQueue refreshKey={live.tick} />;
      break;
    case "newCase":
      screen = <NewCase />;
      break;
    case "case":
      screen = <CaseScreen caseId={route.caseId} me={me} refreshKey={live.tick} channel={channel} />;
      break;
    case "notifications":
      screen = <Notifications refreshKey={live.tick} onRead={() => setUnread(0)} />;
      break;
    case "passport":
      screen = <PassportCases />;
      break;
    case "passportCase":
      screen = <PassportCase caseId={route.caseId} />;
      break;
    case "notFound":
      screen = <ScreenTitle>{t("app.notFound")}</ScreenTitle>;
      break;
    case "shared":
      screen = <CaseList key={`shared-${live.tick}`} shared />;
      break;
    case "teamRequests":
      screen = <TeamRequests invitationId={route.invitationId} />;
      break;
    case "network":
      screen = <Network />;
      break;
    case "settings":
      screen = <Settings webhooks={me.role === "clinician"} />;
      break;
    case "webhook":
      screen = <WebhookDeliveries endpointId={route.endpointId} />;
      break;
    case "labPlanning":
      screen = <LabPlanning />;
      break;
    case "casePrint":
      screen = <PrintConfirmation caseId={route.caseId} />;
      break;
    case "patientRoom":
      screen = <PatientRoom caseId={route.caseId} me={me} channel={channel} />;
  }

  return (
    <Shell
      nav={
        <nav aria-label={t("nav.main")}>
          <ul class="plain row">
            {isPatient ? (
              <li>
                <a href={href({ name: "passport" })}>{t("nav.passport")}</a>
              </li>
            ) : isLab ? (
              <li>
                <a href={href({ name: "labQueue" })}>{t("nav.queue")}</a>
              </li>
            ) : (
              <>
                <li>
                  <a href={href({ name: "cases" })}>{t("nav.cases")}</a>
                </li>
                <li>
                  <a href={href({ name: "newCase" })}>{t("nav.newCase")}</a>
                </li>
              </>
            )}
            {isLab && (
              <li>
                <a href={href({ name: "labPlanning" })}>{t("nav.planning")}</a>
              </li>
            )}
            {me.role === "clinician" && (
              <li>
                <a href={href({ name: "shared" })}>{t("nav.shared")}</a>
              </li>
            )}
            {(isLab || me.role === "clinician") && (
              <>
                <li>
                  <a href={href({ name: "teamRequests" })}>{t("nav.requests")}</a>
                </li>
                <li>
                  <a href={href({ name: "network" })}>{t("nav.network")}</a>
                </li>
              </>
            )}
            <li>
              <a href={href({ name: "settings" })}>{t("nav.settings")}</a>
            </li>
            <li>
              <a href={href({ name: "notifications" })} data-testid="bell">
                {t("nav.notifications")} <span class="badge" aria-label={t("nav.unread", { count: unread })}>{unread}</span>
              </a>
            </li>
            <li class="muted">{me.name}</li>
            <li>
              <button type="button" class="link" onClick={signOut}>
                {t("app.signOut")}
              </button>
            </li>
          </ul>
        </nav>
      }
    >
      <div role="status" aria-live="polite" class="toast" data-testid="live-toast">
        {live.tick > 0 ? t("notif.live", { title: live.title }) : ""}
      </div>
      {screen}
    </Shell>
  );
}

function Shell({ children, nav }: { children: preact.ComponentChildren; nav?: preact.ComponentChildren }) {
  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(event) => {
          // The hash is the router's: focus the content instead of navigating.
          event.preventDefault();
          document.getElementById("main")?.focus();
        }}
      >
        {t("app.skip")}
      </a>
      <header class="top">
        <a class="brand" href="#/">
          {t("app.name")}
        </a>
        {nav}
        <label class="lang">
          <span class="visually-hidden">{t("app.language")}</span>
          <select value={locale()} onChange={(e) => setLocale(e.currentTarget.value as Locale)}>
            <option value="en">English</option>
            <option value="fr">Français</option>
          </select>
        </label>
      </header>
      <main id="main" tabIndex={-1}>{children}</main>
    </>
  );
}
