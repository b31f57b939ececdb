/** One line of text for an activity entry: a message's body, a task's title, an assignment's prompt head. */
import type { ActivityEvent } from '@gantry/protocol';

type Data = Record<string, unknown>;
const obj = (v: unknown): Data => (v && typeof v === 'object' ? (v as Data) : {});
const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** A task's fields as people say them (`changes` names them as the API does). */
const fieldWords: Record<string, string> = { assignmentId: 'run', threadId: 'thread' };

export function describe(entry: ActivityEvent): string {
  const d = entry.data;
  switch (entry.type) {
    case 'message.created':
      return str(obj(d.message).body);
    case 'task.created':
    case 'task.updated': {
      const task = obj(d.task);
      const changes = Array.isArray(d.changes)
        ? ` (${(d.changes as unknown[]).map((c) => fieldWords[String(c)] ?? String(c)).join(', ')})`
        : '';
      return `${str(task.title)}${entry.type === 'task.updated' ? changes : ''}`;
    }
    case 'context.set':
    case 'context.deleted':
      return entry.subject ?? '';
    case 'assignment.created':
      return str(d.prompt);
    case 'assignment.started':
      return `started: ${str(obj(d.agent).name)}`;
    case 'assignment.progress':
      return str(d.message);
    case 'assignment.finished': {
      const error = obj(d.error);
      return `${str(d.state)}${str(error.message) ? `: ${str(error.message)}` : str(d.output) ? `: ${str(d.output)}` : ''}`;
    }
    case 'approval.requested':
    case 'approval.decided':
      return `${str(d.kind).replace('_', ' ')}${d.status ? ` ${str(d.status)}` : ''}: ${str(d.subject)}`;
    case 'message.read': {
      const n = Array.isArray(d.messageIds) ? d.messageIds.length : 0;
      // The reader is the entry's actor, named beside it already.
      return `read ${n} message${n === 1 ? '' : 's'}`;
    }
    case 'gateway.connected':
    case 'gateway.disconnected': {
      const agents = Array.isArray(d.agents) ? (d.agents as unknown[]).map((a) => str(obj(a).name)) : [];
      const verb = entry.type === 'gateway.connected' ? 'connected' : 'disconnected';
      return `${str(obj(d.gateway).name)} ${verb}${agents.length > 0 ? ` (${agents.join(', ')})` : ''}`;
    }
    case 'agent.paused':
    case 'agent.resumed':
      return `${str(obj(d.agent).name) || entry.subject || ''} ${entry.type === 'agent.paused' ? 'paused' : 'resumed'}`;
    case 'mention.dispatched':
      return `to ${str(obj(d.agent).name)}`;
    default:
      return str(d.message) || str(d.text) || entry.subject || '';
  }
}

/** Where an entry leads, if anywhere. */
export function linkOf(entry: ActivityEvent): string | undefined {
  const d = entry.data;
  if (entry.type.startsWith('assignment.') && entry.subject) return `/assignments/${entry.subject}`;
  if (entry.type === 'mention.dispatched' && str(d.assignmentId))
    return `/assignments/${str(d.assignmentId)}`;
  if (entry.type.startsWith('task.') && entry.subject) return `/tasks/${entry.subject}`;
  if (entry.type === 'message.created') return `/messages/${str(obj(d.message).threadId) || entry.subject}`;
  if (entry.type === 'context.set' && entry.subject) return `/context/${encodeURIComponent(entry.subject)}`;
  if (entry.type.startsWith('approval.')) return '/';
  return undefined;
}
