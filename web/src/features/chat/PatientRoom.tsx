// The patient's side of the room (the Passport): chat with the clinic in the case's patient room.
// The patient never sees the team room: only the patient room is offered, and the server refuses
// the team room to a patient anyway.
import type { Me } from "../../shared/api/client";
import { api } from "../../shared/api/client";
import { t } from "../../shared/i18n";
import type { LiveChannel } from "../../shared/live/socket";
import { ScreenTitle } from "../../shared/ui/components";
import { useAsync } from "../../shared/ui/hooks";
import { CaseRooms } from "./CaseRooms";

export function PatientRoom({ caseId, me, channel }: { caseId: string; me: Me; channel: LiveChannel }) {
  const view = useAsync(async () => (await api.GET("/me/passport/cases/{caseId}", { params: { path: { caseId } } })).data, [caseId]);
  return (
    <div class="case-page">
      <ScreenTitle>
        {t("chat.patientTitle")}
        {view.data ? ` · ${view.data.clinicName}` : ""}
      </ScreenTitle>
      <p class="muted">{caseId}</p>
      <CaseRooms caseId={caseId} me={me} channel={channel} only={["patient"]} patientView />
    </div>
  );
}
