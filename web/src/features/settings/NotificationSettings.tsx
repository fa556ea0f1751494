// Email preferences per notification kind (immediate, daily digest or off); critical kinds stay
// immediate. The digest hour is kept in UTC by the API and shown in the user's zone too.
import { useEffect, useState } from "preact/hooks";
import { api, must, type Schemas } from "../../shared/api/client";
import { label, localHourOfUtc, t } from "../../shared/i18n";
import { ErrorBox, Loading, Notice } from "../../shared/ui/components";
import { useAsync } from "../../shared/ui/hooks";

type Mode = Schemas["EmailMode"];
type Kind = Schemas["NoticeKind"];
const MODES: Mode[] = ["immediate", "digest", "off"];

export function NotificationSettings() {
  const prefs = useAsync(async () => must(await api.GET("/me/notification-preferences")), []);
  const [choices, setChoices] = useState<Partial<Record<Kind, Mode>>>({});
  const [hour, setHour] = useState<number>();
  const [error, setError] = useState<Error>();
  const [done, setDone] = useState<string>();
  useEffect(() => {
    if (!prefs.data) return;
    setChoices(Object.fromEntries(prefs.data.preferences.map((pref) => [pref.kind, pref.email])));
    setHour(prefs.data.digestHourUtc);
  }, [prefs.data]);

  const save = async (event: Event) => {
    event.preventDefault();
    if (!prefs.data) return;
    setError(undefined);
    setDone(undefined);
    const email: Partial<Record<Kind, Mode>> = {};
    for (const pref of prefs.data.preferences) {
      const chosen = choices[pref.kind];
      if (!pref.critical && chosen && chosen !== pref.email) email[pref.kind] = chosen;
    }
    try {
      must(await api.PUT("/me/notification-preferences", { body: { email, digestHourUtc: hour ?? null } }));
      setDone(t("prefs.saved"));
      prefs.reload();
    } catch (caught) {
      setError(caught as Error);
    }
  };

  return (
    <section class="card" aria-labelledby="prefs-title">
      <h2 id="prefs-title">{t("prefs.title")}</h2>
      {prefs.loading && !prefs.data && <Loading />}
      {prefs.error && <ErrorBox error={prefs.error} />}
      {prefs.data && (
        <form class="stack" onSubmit={save}>
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">{t("prefs.title")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("prefs.kind")}</th>
                  <th scope="col">{t("prefs.email")}</th>
                </tr>
              </thead>
              <tbody>
                {prefs.data.preferences.map((pref) => (
                  <tr key={pref.kind} data-kind={pref.kind}>
                    <th scope="row" id={`kind-${pref.kind}`}>
                      {label(pref.kind)}
                      {pref.critical && <span class="muted"> · {t("prefs.critical")}</span>}
                    </th>
                    <td>
                      <select
                        name={pref.kind}
                        aria-labelledby={`kind-${pref.kind}`}
                        disabled={pref.critical}
                        value={choices[pref.kind] ?? pref.email}
                        onChange={(e) => setChoices({ ...choices, [pref.kind]: e.currentTarget.value as Mode })}
                      >
                        {MODES.map((mode) => (
                          <option key={mode} value={mode}>
                            {t(`prefs.mode.${mode}` as "prefs.mode.off")}
                          </option>
                        ))}
                      </select>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <label>
            {t("prefs.digestHour")}
            <select name="digestHourUtc" value={String(hour ?? 0)} onChange={(e) => setHour(Number(e.currentTarget.value))}>
              {Array.from({ length: 24 }, (_, h) => (
                <option key={h} value={String(h)}>
                  {t("prefs.hour", { utc: `${String(h).padStart(2, "0")}:00 UTC`, local: localHourOfUtc(h) })}
                </option>
              ))}
            </select>
          </label>
          {done && <Notice>{done}</Notice>}
          {error && <ErrorBox error={error} />}
          <button type="submit" class="button">
            {t("prefs.save")}
          </button>
        </form>
      )}
    </section>
  );
}
