import { startSignIn } from "../../shared/auth/cognito";
import { devSignIn, devUsers, type DevUser } from "../../shared/auth/session";
import { appConfig } from "../../shared/config";
import { t } from "../../shared/i18n";
import { ErrorBox, Loading, ScreenTitle } from "../../shared/ui/components";
import { useAsync } from "../../shared/ui/hooks";
import { useState } from "preact/hooks";

/** Local runtime: pick a seeded user (POST /_local/sign-in). In AWS this is Cognito's hosted UI. */
export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const cognito = appConfig().cognito;
  const users = useAsync<DevUser[] | null>(async () => (cognito ? null : devUsers()), []);
  const [error, setError] = useState<Error>();
  const choose = async (user: string) => {
    try {
      await devSignIn(user);
      onSignedIn();
    } catch (caught) {
      setError(caught as Error);
    }
  };
  return (
    <section class="card narrow">
      <ScreenTitle>{t("signin.title")}</ScreenTitle>
      {users.loading && <Loading />}
      {users.error && <ErrorBox error={users.error} />}
      {error && <ErrorBox error={error} />}
      {cognito && (
        <button type="button" class="button wide" onClick={() => startSignIn(cognito.hostedUiUrl, cognito.clientId)}>
          {t("signin.cognito")}
        </button>
      )}
      {users.data === null && !cognito && <p>{t("signin.unavailable")}</p>}
      {users.data && (
        <>
          <p>{t("signin.dev")}</p>
          <ul class="plain stack">
            {users.data.map((user) => (
              <li key={user.user}>
                <button type="button" class="button wide" data-user={user.user} onClick={() => choose(user.user)}>
                  {t("signin.as", { name: user.name, group: user.group })}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
