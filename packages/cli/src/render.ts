/** How assignments and their events read for people. */
import type { Assignment, AssignmentEvent } from '@gantry/protocol';
import { formatDuration } from './duration.ts';

export function eventLine(event: AssignmentEvent): string {
  const time = event.ts.slice(11, 23);
  return `${time} ${`#${event.attempt}.${event.seq}`.padEnd(7)} ${event.type.padEnd(11)} ${eventSummary(event)}`;
}

function eventSummary({ type, data }: AssignmentEvent): string {
  const text = (key: string) => (typeof data[key] === 'string' ? (data[key] as string) : undefined);
  if (type === 'status') {
    const progress = data.progress as { current?: number; total?: number; unit?: string } | undefined;
    const of = progress
      ? ` (${progress.current ?? '?'}/${progress.total ?? '?'}${progress.unit ? ` ${progress.unit}` : ''})`
      : '';
    return `${text('message') ?? ''}${of}`;
  }
  if (type === 'session') return `session ${text('id') ?? ''}`;
  return text('text') ?? text('message') ?? text('name') ?? JSON.stringify(data);
}

export function elapsed(a: Assignment): string {
  if (!a.startedAt) return '';
  const end = a.finishedAt ? Date.parse(a.finishedAt) : Date.now();
  return formatDuration(end - Date.parse(a.startedAt));
}

/** An assignment for people; `gatewayName` names its gateway beside the id. */
export function assignmentBlock(a: Assignment, gatewayName?: string): string {
  const lines = [
    `Assignment  ${a.id}`,
    `Agent       ${a.agent.name} (${a.agent.id})`,
    `State       ${a.state}${a.finishedAt ? ` after ${elapsed(a)}` : ''} · attempt ${a.attempt} of ${a.retries + 1}`,
    `Session     ${a.sessionKey} (${a.mode})`,
    `Chain       ${a.chainId} · depth ${a.depth}`,
    `Created     ${a.createdAt}`,
    `Gateway     ${a.gatewayId ? (gatewayName ? `${gatewayName} (${a.gatewayId})` : a.gatewayId) : '-'}`,
    `Prompt      ${a.prompt}`,
  ];
  if (a.error) lines.push(`Error       ${a.error.code}: ${a.error.message}`);
  if (a.result) {
    lines.push(`Exit code   ${a.result.exitCode ?? '-'}`);
    const { branch, changedFiles, usage } = a.result;
    if (branch)
      lines.push(`Branch      ${branch}${changedFiles ? ` (${changedFiles.length} file(s) changed)` : ''}`);
    for (const file of changedFiles ?? []) lines.push(`  ${file}`);
    if (usage) {
      const cost = usage.costUsd !== undefined ? ` · $${usage.costUsd.toFixed(4)}` : '';
      lines.push(`Usage       ${usage.inputTokens} in / ${usage.outputTokens} out tokens${cost}`);
    }
    lines.push('Output', ...a.result.output.split('\n').map((l) => `  ${l}`));
  }
  return lines.join('\n');
}

/** A one-line status that rewrites itself on a terminal while a command waits. */
export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private label = 'queued';
  private readonly started = Date.now();
  private readonly enabled: boolean;

  constructor(enabled: boolean) {
    this.enabled = enabled && process.stderr.isTTY === true;
    if (this.enabled) this.timer = setInterval(() => this.draw(), 250);
  }

  set(label: string): void {
    this.label = label;
    this.draw();
  }

  private draw(): void {
    if (!this.enabled) return;
    process.stderr.write(`\r\x1b[2K… ${this.label} · ${formatDuration(Date.now() - this.started)}`);
  }

  done(): void {
    clearInterval(this.timer);
    if (this.enabled) process.stderr.write('\r\x1b[2K');
  }
}
