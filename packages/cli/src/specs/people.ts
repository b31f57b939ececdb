/** `users`, `workspaces` and `tokens`. */
import { Option, type Command } from 'commander';
import { topCommand } from './top-level.ts';
import { action, hubOptions, withJson } from './options.ts';

const load = {
  tokens: () => import('../commands/tokens.ts'),
  users: () => import('../commands/users.ts'),
  workspaces: () => import('../commands/workspaces.ts'),
};

export function peopleSpec(program: Command): void {
  const users = topCommand(program, 'users');
  withJson(
    hubOptions(users.command('add <handle>'))
      .description('add a user and print their token (shown once; owner, admin — only an owner adds owners)')
      .addOption(
        new Option('--role <role>', 'owner, admin or member (default member)').choices([
          'owner',
          'admin',
          'member',
        ]),
      ),
    'JSON output: { user, token }',
  ).action(action(load.users, 'add'));
  withJson(hubOptions(users.command('list')).description('users of the workspace with their roles')).action(
    action(load.users, 'list'),
  );
  withJson(
    hubOptions(users.command('remove <handle>')).description(
      'remove a user and revoke their tokens (owner, admin; never the last owner)',
    ),
  ).action(action(load.users, 'remove'));

  const workspaces = topCommand(program, 'workspaces');
  withJson(
    hubOptions(workspaces.command('list')).description(
      'your workspaces and your role in each (* the one this command acted in)',
    ),
  ).action(action(load.workspaces, 'list'));
  withJson(
    hubOptions(workspaces.command('create <name>')).description(
      'create a workspace you own, and print a token for it (shown once)',
    ),
    'JSON output: { workspace, user, token }',
  ).action(action(load.workspaces, 'create'));

  const tokens = topCommand(program, 'tokens');
  withJson(
    hubOptions(tokens.command('create'))
      .description('a new personal token, shown once')
      .option('--expires <duration>', 'it stops working after DURATION, e.g. 1h, 30m, 720h'),
    'JSON output: { token, secret }',
  ).action(action(load.tokens, 'create'));
  withJson(
    hubOptions(tokens.command('list')).description(
      'your tokens (owner, admin: every user, agent and gateway token of the workspace)',
    ),
  ).action(action(load.tokens, 'list'));
  withJson(
    hubOptions(tokens.command('revoke <id>')).description(
      'revoke a token at once, closing connections made with it',
    ),
  ).action(action(load.tokens, 'revoke'));
}
