// The case team on the case page: the owner, active members with their professional roles and,
// for the owner, pending invitations. The owner invites (by email or from the network), cancels
// an invitation, removes a member and hands over ownership; a member may leave.
import { useState } from "preact/hooks";
import { api, must, type CaseView, type Me, type Schemas } from "../../shared/api/client";
import { formatDateTime, label, t } from "../../shared/i18n";
import { navigate } from "../../shared/router";
import { ErrorBox, Loading, Notice } from "../../shared/ui/components";
import { useAsync } from "../../shared/ui/hooks";

export type ProfessionalRole = Schemas["ProfessionalRole"];
export const ROLES: ProfessionalRole[] = ["dentist", "surgeon", "prosthodontist", "orthodontist", "technician"];

type Contact = Schemas["ContactView"];

export function RoleSelect({ value, onChange, name }: { value: ProfessionalRole; onChange: (role: ProfessionalRole) => void; name: string }) {
  return (
    <select name={name} value={value} onChange={(e) => onChange(e.currentTarget.value as ProfessionalRole)}>
      {ROLES.map((role) => (
        <option key={role} value={role}>
          {label(role)}
        </option>
      ))}
    </select>
  );
}

export function TeamPanel({ view, me, onChanged }: { view: CaseView; me: Me; onChanged: () => void }) {
  const caseId = view.caseId;
  const [tick, setTick] = useState(0);
  const team = useAsync(async () => must(await api.GET("/cases/{caseId}/team", { params: { path: { caseId } } })), [caseId, tick, view.version]);
  const [error, setError] = useState<Error>();
  const [done, setDone] = useState<string>();
  const isOwner = view.ownerId === me.userId;
  const reload = () => setTick((n) => n + 1);

  const act = async (work: () => Promise<string>) => {
    setError(undefined);
    setDone(undefined);
    try {
      setDone(await work());
      reload();
    } catch (caught) {
      setError(caught as Error);
    }
  };

  const cancelInvitation = (invitationId: string, email: string) =>
    act(async () => {
      must(await api.DELETE("/cases/{caseId}/team/invitations/{invitationId}", { params: { path: { caseId, invitationId } } }));
      return t("team.cancelled", { email });
    });
  const removeMember = (userId: string, name: string) => {
    if (!confirm(t("team.confirmRemove", { name }))) return;
    void act(async () => {
      must(await api.DELETE("/cases/{caseId}/team/members/{userId}", { params: { path: { caseId, userId } } }));
      return t("team.removed", { name });
    });
  };
  const leave = async () => {
    if (!confirm(t("team.confirmLeave"))) return;
    setError(undefined);
    try {
      must(await api.POST("/cases/{caseId}/team/leave", { params: { path: { caseId } } }));
      navigate({ name: "shared" });
    } catch (caught) {
      setError(caught as Error);
    }
  };

  const data = team.data;
  const amMember = data?.members.some((member) => member.userId === me.userId) ?? false;
  return (
    <section class="card" aria-labelledby="team-title" data-testid="team-panel">
      <h2 id="team-title">{t("team.title")}</h2>
      {team.loading && !data && <Loading />}
      {team.error && <ErrorBox error={team.error} />}
      {done && <Notice>{done}</Notice>}
      {error && <ErrorBox error={error} />}
      {data && (
        <>
          <ul class="plain team">
            <li data-user-id={data.owner.userId}>
              <strong>{data.owner.name}</strong> · {t("team.owner")} <span class="muted">{data.owner.email}</span>
            </li>
            {data.members.map((member) => (
              <li key={member.userId} data-user-id={member.userId} class="row between">
                <span>
                  <strong>{member.name}</strong> · {label(member.professionalRole)} <span class="muted">{member.email}</span>
                  <span class="muted"> · {t("team.joined", { when: formatDateTime(member.joinedAt) })}</span>
                </span>
                {isOwner && (
                  <button type="button" class="button small secondary" onClick={() => removeMember(member.userId, member.name)}>
                    {t("team.remove", { name: member.name })}
                  </button>
                )}
              </li>
            ))}
          </ul>
          {data.members.length === 0 && <p class="muted">{t("team.noMembers")}</p>}
          {isOwner && (data.pending ?? []).length > 0 && (
            <>
              <h3>{t("team.pending")}</h3>
              <ul class="plain team">
                {(data.pending ?? []).map((invitation) => (
                  <li key={invitation.invitationId} data-invitation-id={invitation.invitationId} class="row between">
                    <span>
                      {invitation.email} · {label(invitation.professionalRole)}{" "}
                      <span class="muted">{t("team.invitedAt", { when: formatDateTime(invitation.createdAt) })}</span>
                    </span>
                    <button
                      type="button"
                      class="button small secondary"
                      onClick={() => void cancelInvitation(invitation.invitationId, invitation.email)}
                    >
                      {t("team.cancelInvitation", { email: invitation.email })}
                    </button>
                  </li>
                ))}
              </ul>
            </>
          )}
          {isOwner && <InviteForm caseId={caseId} onInvited={(message) => { setDone(message); reload(); }} />}
          {isOwner && data.members.length > 0 && (
            <HandOver view={view} members={data.members} onDone={(message) => { setDone(message); onChanged(); }} />
          )}
          {!isOwner && amMember && (
            <button type="button" class="button secondary" onClick={leave}>
              {t("team.leave")}
            </button>
          )}
        </>
      )}
    </section>
  );
}

function InviteForm({ caseId, onInvited }: { caseId: string; onInvited: (message: string) => void }) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<ProfessionalRole>("dentist");
  const [query, setQuery] = useState("");
  const [contacts, setContacts] = useState<Contact[]>();
  const [error, setError] = useState<Error>();

  const invite = async (target: { email?: string; userId?: string; name: string }) => {
    setError(undefined);
    try {
      const invitation = must(
        await api.POST("/cases/{caseId}/team/invitations", {
          params: { path: { caseId } },
          body: { email: target.email ?? null, userId: target.userId ?? null, professionalRole: role },
        }),
      );
      setEmail("");
      onInvited(t(invitation.emailSent === false ? "team.invitedNoEmail" : "team.invited", { email: invitation.email }));
    } catch (caught) {
      setError(caught as Error);
    }
  };

  const search = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const page = must(await api.GET("/me/network", { params: { query: { q: query.trim() || null, limit: 10 } } }));
      setContacts(page.items);
    } catch (caught) {
      setError(caught as Error);
    }
  };

  return (
    <div class="stack invite">
      <h3>{t("team.invite")}</h3>
      {error && <ErrorBox error={error} />}
      <label>
        {t("team.role")}
        <RoleSelect name="professionalRole" value={role} onChange={setRole} />
      </label>
      <form
        class="row end"
        onSubmit={(event) => {
          event.preventDefault();
          void invite({ email: email.trim(), name: email.trim() });
        }}
      >
        <label class="grow">
          {t("team.email")}
          <input type="email" name="inviteEmail" required autoComplete="off" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <button type="submit" class="button">
          {t("team.sendInvite")}
        </button>
      </form>
      <form class="row end" role="search" onSubmit={search}>
        <label class="grow">
          {t("team.fromNetwork")}
          <input type="search" name="networkQuery" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
        </label>
        <button type="submit" class="button secondary">
          {t("network.search")}
        </button>
      </form>
      {contacts && contacts.length === 0 && <p class="muted">{t("network.empty")}</p>}
      {contacts && contacts.length > 0 && (
        <ul class="plain team" aria-label={t("team.fromNetwork")}>
          {contacts.map((contact) => (
            <li key={contact.userId} class="row between" data-contact-id={contact.userId}>
              <span>
                <strong>{contact.name}</strong> <span class="muted">{contact.email}</span>
              </span>
              <button type="button" class="button small" onClick={() => void invite({ userId: contact.userId, name: contact.name })}>
                {t("team.inviteName", { name: contact.name })}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function HandOver({ view, members, onDone }: { view: CaseView; members: Schemas["MemberView"][]; onDone: (message: string) => void }) {
  const [userId, setUserId] = useState(members[0]?.userId ?? "");
  const [myRole, setMyRole] = useState<ProfessionalRole>("dentist");
  const [error, setError] = useState<Error>();
  const submit = async (event: Event) => {
    event.preventDefault();
    const member = members.find((candidate) => candidate.userId === userId);
    if (!member || !confirm(t("team.confirmHandOver", { name: member.name }))) return;
    setError(undefined);
    try {
      must(await api.POST("/cases/{caseId}/team/owner", { params: { path: { caseId: view.caseId } }, body: { userId, myRole, version: view.version } }));
      onDone(t("team.handedOver", { name: member.name }));
    } catch (caught) {
      setError(caught as Error);
    }
  };
  return (
    <form class="stack handover" onSubmit={submit}>
      <h3>{t("team.handOver")}</h3>
      <p class="muted" id="handover-help">
        {t("team.handOverHelp")}
      </p>
      {error && <ErrorBox error={error} />}
      <label>
        {t("team.newOwner")}
        <select name="newOwner" value={userId} aria-describedby="handover-help" onChange={(e) => setUserId(e.currentTarget.value)}>
          {members.map((member) => (
            <option key={member.userId} value={member.userId}>
              {member.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t("team.myRole")}
        <RoleSelect name="myRole" value={myRole} onChange={setMyRole} />
      </label>
      <button type="submit" class="button secondary">
        {t("team.handOver")}
      </button>
    </form>
  );
}
