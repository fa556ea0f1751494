// The case page, composed here (app layer) from the features: cases, files, lab and the room (chat).
import { api, must, type Me } from "../shared/api/client";
import { t } from "../shared/i18n";
import { ErrorBox, Loading, ScreenTitle } from "../shared/ui/components";
import { useAsync } from "../shared/ui/hooks";
import { AuditTrail, CaseDetails, Timeline } from "../features/cases/CaseDetails";
import { FilesPanel } from "../features/files/FilesPanel";
import { StatusMover } from "../features/lab/StatusMover";
import { PlanningPanel } from "../features/planning/PlanningPanel";
import { TeamPanel } from "../features/team/TeamPanel";
import { href } from "../shared/router";
import { CaseRooms } from "../features/chat/CaseRooms";
import type { LiveChannel } from "../shared/live/socket";
import { SharingPanel } from "../features/sharing/SharingPanel";

export function CaseScreen({ caseId, me, refreshKey, channel }: { caseId: string; me: Me; refreshKey: number; channel?: LiveChannel }) {
  const view = useAsync(async () => must(await api.GET("/cases/{caseId}", { params: { path: { caseId } } })), [caseId, refreshKey]);
  if (view.error) return <ErrorBox error={view.error} />;
  if (!view.data) return <Loading />;
  const data = view.data;
  const isLab = me.role === "lab";
  return (
    <div class="case-page">
      <ScreenTitle>
        {data.caseId} · {data.patientName}
      </ScreenTitle>
      <div class="grid">
        <CaseDetails view={data} canEdit={data.ownerId === me.userId} onChanged={view.reload} />
        {isLab && <StatusMover view={data} onMoved={view.reload} />}
        <FilesPanel caseId={caseId} refreshKey={refreshKey} />
        {!isLab && <SharingPanel caseId={caseId} owner={data.ownerId === me.userId} />}
        <PlanningPanel view={data} me={me} onChanged={view.reload} />
        <TeamPanel view={data} me={me} onChanged={view.reload} />
        <Timeline caseId={caseId} version={data.version + refreshKey} />
        {data.ownerId === me.userId && <AuditTrail caseId={caseId} version={data.version + refreshKey} />}
      </div>
      {channel && <CaseRooms caseId={data.caseId} me={me} channel={channel} />}
      <p class="muted">{t("case.lab")}: {data.labId}</p>
      <p class="no-print">
        <a href={href({ name: "casePrint", caseId })}>{t("print.link")}</a>
      </p>
    </div>
  );
}
