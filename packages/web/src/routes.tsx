/** Which view a path shows. */
import type { ReactNode } from 'react';
import { match, navigate } from './router.ts';
import { Page } from './ui/page.tsx';
import { Link } from './ui/link.tsx';
import { Activity } from './views/activity/activity.tsx';
import { AgentDetail } from './views/agents/agent-detail.tsx';
import { Agents } from './views/agents/agents.tsx';
import { AssignmentDetail } from './views/assignments/assignment-detail.tsx';
import { Assignments } from './views/assignments/assignments.tsx';
import { ChainTree } from './views/assignments/chain-tree.tsx';
import { ContextView } from './views/context/context.tsx';
import { Messages } from './views/messages/messages.tsx';
import { NeedsYou } from './views/needs-you/needs-you.tsx';
import { Settings } from './views/settings/settings.tsx';
import { TaskDetail } from './views/tasks/task-detail.tsx';
import { Tasks } from './views/tasks/tasks.tsx';

const table: [string, (p: Record<string, string>) => ReactNode][] = [
  ['/', () => <NeedsYou />],
  ['/agents', () => <Agents />],
  ['/agents/:name', (p) => <AgentDetail key={p.name} name={p.name ?? ''} />],
  ['/assignments', () => <Assignments />],
  ['/assignments/:id', (p) => <AssignmentDetail key={p.id} id={p.id ?? ''} />],
  ['/assignments/chains/:id', (p) => <ChainTree key={p.id} id={p.id ?? ''} />],
  ['/messages', () => <Messages />],
  ['/messages/:thread', (p) => <Messages thread={p.thread} />],
  ['/tasks', () => <Tasks />],
  ['/tasks/:id', (p) => <TaskDetail key={p.id} id={p.id ?? ''} />],
  ['/context', () => <ContextView />],
  ['/context/:key', (p) => <ContextView selected={p.key} />],
  ['/activity', () => <Activity />],
  ['/settings', () => <Settings />],
];

export function Routes({ path }: { path: string }) {
  if (path === '/signin') {
    // Signed in already (a second use of a link): go home.
    queueMicrotask(() => navigate('/', { replace: true }));
    return null;
  }
  for (const [pattern, render] of table) {
    const params = match(pattern, path);
    if (params) return <>{render(params)}</>;
  }
  return (
    <Page title="Not found">
      <p>
        There is no page at <code>{path}</code>. <Link to="/">Go to Needs you</Link>.
      </p>
    </Page>
  );
}
