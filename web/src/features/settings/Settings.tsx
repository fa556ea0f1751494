// Settings: email preferences for everyone; webhook endpoints for clinicians (the API's rule).
import { t } from "../../shared/i18n";
import { ScreenTitle } from "../../shared/ui/components";
import { NotificationSettings } from "./NotificationSettings";
import { Webhooks } from "./Webhooks";

export function Settings({ webhooks }: { webhooks: boolean }) {
  return (
    <section>
      <ScreenTitle>{t("settings.title")}</ScreenTitle>
      <div class="grid">
        <NotificationSettings />
        {webhooks && <Webhooks />}
      </div>
    </section>
  );
}
