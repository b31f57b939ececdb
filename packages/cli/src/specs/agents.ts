/** `templates` and `agents`: the agents of a workspace, made from templates or by hand. */
import { Option, type Command } from 'commander';
import { providerOptions } from '../provider-options.ts';
import { topCommand } from './top-level.ts';
import { action, hubOptions, withJson } from './options.ts';

const load = {
  agents: () => import('../commands/agents.ts'),
  agentsList: () => import('../commands/agents-list.ts'),
  discover: () => import('../commands/discover.ts'),
  templates: () => import('../commands/templates.ts'),
};

export function agentsSpec(program: Command): void {
  withJson(hubOptions(topCommand(program, 'templates'))).action(action(load.templates, 'templates'));

  const agents = topCommand(program, 'agents');
  withJson(
    providerOptions(
      hubOptions(agents.command('add <name>'))
        .description(
          'add an agent from a template (owner/admin); a managed one is handed to --gateway, which serves it at once',
        )
        .requiredOption('--template <name>', 'see `gantry templates`')
        .option('--gateway <id>', 'the connected gateway (id or name) that runs it (managed templates)')
        .option(
          '--workdir <dir>',
          "its folder on the gateway's machine (default: the gateway's workspace root)",
        )
        .option('--provider-bin <path>', 'the binary for generic and acp (on the gateway machine)'),
      { isolation: true },
    ),
    "JSON output (no key, except a service account's, shown once)",
  ).action(action(load.templates, 'add'));
  withJson(
    hubOptions(agents.command('show <name>')).description(
      'an agent: kind, template, gateways with providers, paused, reachability',
    ),
  ).action(action(load.templates, 'show'));
  withJson(
    hubOptions(agents.command('test <name>'))
      .description(
        'managed: a test assignment, waited for; others: a test message and whether it can hear (with the round trip)',
      )
      .option('--timeout <duration>', 'how long to wait for a managed agent (default 60s)'),
  ).action(action(load.templates, 'test'));
  withJson(
    hubOptions(agents.command('remove <name>')).description(
      'remove an agent (owner/admin): revoke its keys, cancel its work, detach it from its gateways',
    ),
  ).action(action(load.templates, 'remove'));
  withJson(
    hubOptions(agents.command('create <name>'))
      .description('create an agent and print its key (shown once)')
      .addOption(
        new Option(
          '--kind <kind>',
          'managed (runs through a gateway), pass_through (polls its inbox, e.g. with `gantry listen`) or service (sends only)',
        )
          .choices(['managed', 'pass_through', 'service'])
          .default('managed'),
      ),
    'JSON output with id, name, kind, key',
  ).action(action(load.agents, 'create'));
  withJson(hubOptions(agents.command('list')).description('list agents')).action(
    action(load.agentsList, 'list'),
  );
  withJson(
    hubOptions(agents.command('pause <name>')).description(
      'pause an agent: its mentions and assignments queue without running (users only)',
    ),
  ).action(action(load.agents, 'pause'));
  withJson(
    hubOptions(agents.command('resume <name>')).description(
      'resume a paused agent: what it queued runs, oldest first (users only)',
    ),
  ).action(action(load.agents, 'resume'));
  withJson(
    hubOptions(agents.command('rotate-key <name>'))
      .description('a new key for an agent, shown once; its older keys are revoked at once (owner, admin)')
      .option('--expires <duration>', 'the new key stops working after DURATION, e.g. 720h')
      .option('--print-key', 'print the key even when the gateway serving the agent was handed it'),
    'JSON output: { agent, key, expiresAt, gateways, revoked }',
  ).action(action(load.agents, 'rotateKey'));
  withJson(
    hubOptions(agents.command('discover')).description(
      'each agent: live, queue-only or unreachable, and through what (gateway, inbox wait)',
    ),
  ).action(action(load.discover, 'discover'));
  withJson(
    hubOptions(agents.command('ping <name>'))
      .description(
        "an agent's reachability and the round trip to its gateway (exit 0 live, 1 not, 124 no pong)",
      )
      .option('--timeout <duration>', 'how long to wait for the pong (default 5s, at most 60s)'),
  ).action(action(load.discover, 'ping'));
}
