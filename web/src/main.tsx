import { render } from "preact";
import { App } from "./app/App";
import { finishSignIn } from "./shared/auth/cognito";
import { loadConfig } from "./shared/config";
import "./styles.css";

async function boot(): Promise<void> {
  const config = await loadConfig();
  if (config.cognito) {
    // Back from the hosted UI with ?code=: finish the PKCE exchange before the first render.
    await finishSignIn(config.cognito.hostedUiUrl, config.cognito.clientId).catch((error: unknown) => console.error(error));
  }
  const root = document.getElementById("app");
  if (root) render(<App />, root);
}

void boot();

if ("serviceWorker" in navigator && location.protocol !== "file:") {
  addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js").catch(() => undefined);
  });
}
