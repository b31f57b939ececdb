/** `assign`, `assignments` and `approvals`: work for agents and the decisions it waits for. */
import type { Command } from 'commander';
import { topCommand } from './top-level.ts';
import { action, choice, hubOptions, withJson } from './options.ts';

const load = {
  approvals: () => import('../commands/approvals.ts'),
  assign: () => import('../commands/assign.ts'),
  assignments: () => import('../commands/assignments.ts'),
  chains: () => import('../commands/chains.ts'),
  stop: () => import('../commands/stop.ts'),
};

export function workSpec(program: Command): void {
  withJson(
    hubOptions(topCommand(program, 'assign'))
      .option('--session <key>', 'conversation key (default: "default")')
      .option('--continue', "continue the agent's conversation for the session key")
      .option(
        '--resume-fallback <fail|new>',
        'when --continue cannot resume the provider session: fail (default) or start a new one',
      )
      .option('--timeout <duration>', 'run timeout, e.g. 30s, 10m, 2h (default 60m)')
      .option('--retries <n>', 'extra attempts if the gateway is lost mid-run', '0')
      .option('--wait [duration]', 'wait for the end (at most DURATION; exit 124 if it runs longer)')
      .option('--follow', 'stream events until the end')
      .option('--chain-max-runs <n>', "the runs the chain this starts may make (default: the hub's)")
      .option(
        '--idempotency-key <key>',
        'create at most one assignment for KEY within 24 h: a rerun with it gets the first one (default: a new key)',
      ),
  ).action(action(load.assign, 'assign'));

  const chains = topCommand(program, 'chains');
  withJson(
    hubOptions(chains.command('list'))
      .description('the chains you may see: by default those stopped at a limit, waiting on you')
      .addOption(
        choice('--state <state>', 'stopped (default: oldest stop first) or all (newest first)', [
          'stopped',
          'all',
        ]),
      ),
  ).action(action(load.chains, 'list'));
  withJson(
    hubOptions(chains.command('show <id>')).description(
      'the tree of a chain: who triggered whom, state, duration, usage and cost',
    ),
  ).action(action(load.chains, 'show'));
  withJson(
    hubOptions(chains.command('continue <id>'))
      .description('let a chain stopped at its limits go on (its starter, owners and admins)')
      .option('--runs <n>', "this many more runs (default: the hub's --chain-max-runs)"),
  ).action(action(load.chains, 'continueChain'));
  withJson(
    hubOptions(chains.command('dismiss <id>')).description(
      'leave a stopped chain stopped: it no longer waits on anyone (`continue` may still run it later)',
    ),
  ).action(action(load.chains, 'dismiss'));

  const assignments = topCommand(program, 'assignments');
  withJson(
    hubOptions(assignments.command('list'))
      .description('list assignments, newest first')
      .option('--agent <agent>', 'only this agent (id or name)')
      .option('--state <state>', 'only this state')
      .option('--chain <id>', 'only the runs of this chain (see `gantry chains list --state all`)')
      .option('--limit <n>', 'at most N', '50'),
  ).action(action(load.assignments, 'list'));
  withJson(hubOptions(assignments.command('show <id>')).description('show one assignment')).action(
    action(load.assignments, 'show'),
  );
  withJson(
    hubOptions(assignments.command('events <id>'))
      .description("an assignment's events")
      .option('--follow', 'keep following until the assignment ends'),
    'JSON output (an array; with --follow one object per line)',
  ).action(action(load.assignments, 'events'));
  withJson(
    hubOptions(assignments.command('cancel [id]'))
      .description(
        'cancel an assignment (a running one stops its whole process group), or with --agent --all many',
      )
      .option('--agent <name>', 'with --all: every assignment of this agent not ended yet (owner, admin)')
      .option('--all', 'with --agent: all of them')
      .option(
        '--chain <id>',
        'every assignment of this chain not ended yet (owner, admin, or who started it)',
      ),
  ).action(action(load.assignments, 'cancel'));
  withJson(hubOptions(topCommand(program, 'stop')).option('--all', 'everything in the workspace')).action(
    action(load.stop, 'stop'),
  );
  withJson(
    hubOptions(topCommand(program, 'resume')).option('--all', 'every agent `stop --all` paused'),
  ).action(action(load.stop, 'resume'));

  const approvals = topCommand(program, 'approvals');
  withJson(
    hubOptions(approvals.command('list'))
      .description('approvals, newest first')
      .option('--status <status>', 'only this status: pending, approved, denied or expired')
      .option('--limit <n>', 'at most N', '50'),
  ).action(action(load.approvals, 'list'));
  withJson(
    hubOptions(approvals.command('approve <id>')).description(
      'approve a pending approval (the waiting agent goes on)',
    ),
  ).action(action(load.approvals, 'approve'));
  withJson(
    hubOptions(approvals.command('deny <id>')).description(
      'deny a pending approval (the waiting agent is told)',
    ),
  ).action(action(load.approvals, 'deny'));
}
