/**
 * What a managed agent is told when the hub starts work for it, and what its reply says: a
 * mention's prompt with the thread so far, a task's prompt framed by its intent, and a run's end
 * as a message body.
 */
import { clip, maxMessageBytes, type AssignmentState, type Message, type Task } from '@gantry/protocol';
import type { AssignmentRow, Store } from '../store/store.ts';

/** How much of a thread a mention's prompt carries before the message itself. */
export const threadContext = { messages: 20, bytes: 16 * 1024, messageChars: 4000 };

/**
 * The message, preceded by the thread's earlier messages (newest kept first when they do not all
 * fit). A top-level message is its own prompt.
 */
export async function mentionPrompt(store: Store, message: Message, seq: number): Promise<string> {
  if (message.parentId === null) return message.body;
  const earlier = await store.messages.latestInThread(
    message.workspaceId,
    message.threadId,
    threadContext.messages,
    seq,
  );
  const lines: string[] = [];
  let bytes = 0;
  for (const row of earlier) {
    const line = `${row.author_name}: ${clip(row.body, threadContext.messageChars)}`;
    bytes += Buffer.byteLength(line) + 1;
    if (bytes > threadContext.bytes) break;
    lines.unshift(line);
  }
  if (lines.length === 0) return message.body;
  return [
    'Earlier in this thread, oldest first:',
    ...lines,
    '',
    `Reply to this message from ${message.author.name}:`,
    message.body,
  ].join('\n');
}

const framing: Record<Task['intent'], string> = {
  general: 'Work on this task and reply with the outcome.',
  review: 'Review this: report what is wrong, what is risky and what should change.',
  implement: 'Implement this, check that it works, and summarize what you changed.',
  qa: 'Test this: say what you tried, what passed and what failed.',
  status: 'Report the status of this: what is done, what is left, and what blocks it.',
  incident: 'This is an incident: stop the damage first, find the cause, and report what you found and did.',
};

export function taskPrompt(task: Task): string {
  return [
    `Task ${task.id}: ${task.title}`,
    `Priority ${task.priority}, intent ${task.intent}.`,
    ...(task.body ? ['', task.body] : []),
    '',
    framing[task.intent],
  ].join('\n');
}

/** The reply an ended run posts: its output, or one line saying how and why it did not succeed. */
/**
 * Whether a run ended without a reply (issue 12): it succeeded and said so (`details.reply: false`),
 * or its final text is empty or exactly `NO_REPLY` (how Claude Code and Codex runs say it).
 */
export function endsWithoutReply(row: AssignmentRow): boolean {
  if (row.state !== 'succeeded') return false;
  const details = row.result_details ? (JSON.parse(row.result_details) as { reply?: unknown }) : {};
  const text = (row.result_output ?? '').trim();
  return details.reply === false || text === '' || text === 'NO_REPLY';
}

export function replyBody(row: AssignmentRow): string {
  if (row.state === 'succeeded') {
    const output = (row.result_output ?? '').trim();
    return output ? clip(output, maxMessageBytes) : '(the run succeeded with no output)';
  }
  const code = row.error_code ?? row.state;
  const why = row.error_message ?? 'no reason given';
  return clip(`The run ${stateWords[row.state as AssignmentState] ?? row.state} (${code}): ${why}`, 1000);
}

/** A run's error as a task's `blocked` reason. */
export function errorLine(row: AssignmentRow): string {
  return clip(`${row.error_code ?? row.state}: ${row.error_message ?? `the run ${row.state}`}`, 1000);
}

const stateWords: Partial<Record<AssignmentState, string>> = {
  failed: 'failed',
  timed_out: 'timed out',
  cancelled: 'was cancelled',
  expired: 'expired in the queue',
};
