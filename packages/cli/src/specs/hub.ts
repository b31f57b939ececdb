/** `up`, `hub start` and `dashboard`: running a hub, and signing in to its dashboard. */
import type { Command } from 'commander';
import { topCommand } from './top-level.ts';
import { hubOperations } from './operations.ts';
import { action, hubOptions, withJson, webOptions } from './options.ts';

const load = {
  dashboard: () => import('../commands/dashboard.ts'),
  hub: () => import('../commands/hub.ts'),
  up: () => import('../commands/up.ts'),
};

export function hubSpec(program: Command): void {
  withJson(
    webOptions(topCommand(program, 'up'))
      .option('--port <port>', 'hub port', '7420')
      .option(
        '--gateway-port <port>',
        "gateway's local API port (GANTRY_GATEWAY_PORT, then config.toml; default 7421)",
      )
      .option('--config <file>', 'settings file for the gateway (default: config.toml in the config folder)')
      .option('--data-dir <dir>', 'where the hub keeps its database and owner token'),
    'print the addresses as JSON once ready',
  ).action(action(load.up, 'up'));

  const hub = topCommand(program, 'hub');
  withJson(
    webOptions(hub.command('start'))
      .description('run a hub in the foreground')
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--port <port>', 'port to listen on', '7420')
      .option(
        '--db <db>',
        'SQLite file or postgres:// URL (default: GANTRY_DATABASE_URL, then hub.db in the data folder)',
      )
      .option('--data-dir <dir>', 'where the hub keeps its files')
      .option('--lease-ms <ms>', 'lease of a claimed attempt (GANTRY_LEASE_MS)')
      .option('--heartbeat-ms <ms>', 'gateway heartbeat interval (GANTRY_HEARTBEAT_MS)')
      .option('--grace-ms <ms>', 'how long a lost gateway may take to come back (GANTRY_GRACE_MS)')
      .option(
        '--queue-ttl-ms <ms>',
        'queued work no gateway picks up in this time expires (GANTRY_QUEUE_TTL_MS)',
      )
      .option(
        '--chain-max-depth <n>',
        'deepest run a chain of agents starting agents may make (GANTRY_CHAIN_MAX_DEPTH, default 6)',
      )
      .option('--chain-max-runs <n>', 'most runs one chain may make (GANTRY_CHAIN_MAX_RUNS, default 24)')
      .option('--mention-hop-limit <n>', 'an alias of --chain-max-depth (GANTRY_MENTION_HOP_LIMIT)')
      .option(
        '--max-pending-handshakes <n>',
        'gateway sockets that have not finished hello, in total (GANTRY_MAX_PENDING_HANDSHAKES, default 1024)',
      )
      .option(
        '--max-pending-handshakes-per-address <n>',
        'the same from one address (GANTRY_MAX_PENDING_HANDSHAKES_PER_ADDRESS, default 64)',
      )
      .option(
        '--require-approval',
        'every new gateway device waits for an owner or admin, even the first for an agent (GANTRY_REQUIRE_APPROVAL=1)',
      ),
    'print the address and first-start token as JSON once ready',
  ).action(action(load.hub, 'hubStart'));

  withJson(hubOptions(topCommand(program, 'dashboard')).option('--no-open', 'only print the link')).action(
    action(load.dashboard, 'dashboard'),
  );
  hubOperations(hub);
}
