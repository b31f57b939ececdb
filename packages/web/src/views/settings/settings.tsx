/** Settings: users and roles, tokens, gateways and devices, the audit log — what the role may see. */
import { isAdmin, useMe } from '../../api/session.ts';
import { Page } from '../../ui/page.tsx';
import { Audit } from './audit.tsx';
import { Gateways } from './gateways.tsx';
import { Tokens } from './tokens.tsx';
import { Users } from './users.tsx';

export function Settings() {
  const me = useMe();
  const admin = isAdmin(me);
  return (
    <Page
      title="Settings"
      subtitle={
        <>
          Workspace <strong>{me.workspace.name}</strong> · you are <strong>{me.user.name}</strong> (
          {me.user.role})
        </>
      }
    >
      <nav className="toc" aria-label="Settings sections">
        <a href="#users">Users</a> <a href="#tokens">Tokens</a> <a href="#gateways">Gateways and devices</a>
        {admin && <a href="#audit">Audit log</a>}
      </nav>
      <Users />
      <Tokens />
      <Gateways />
      {admin && <Audit />}
    </Page>
  );
}
