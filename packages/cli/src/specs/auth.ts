/** `login`, `whoami` and `auth doctor`: this CLI's credentials. */
import type { Command } from 'commander';
import { topCommand } from './top-level.ts';
import { action, hubOptions, withJson } from './options.ts';

const load = {
  auth: () => import('../commands/auth.ts'),
  login: () => import('../commands/login.ts'),
};

export function authSpec(program: Command): void {
  withJson(hubOptions(topCommand(program, 'login')).requiredOption('--url <url>', 'hub URL')).action(
    action(load.login, 'login'),
  );
  withJson(hubOptions(topCommand(program, 'whoami'))).action(action(load.login, 'whoami'));
  const auth = topCommand(program, 'auth');
  withJson(
    hubOptions(auth.command('doctor'))
      .description(
        'which credential and hub the CLI would use and why, and every problem found (changes nothing)',
      )
      .option('--data-dir <dir>', "also check a hub's data folder kept elsewhere (hub start --data-dir)"),
  ).action(action(load.auth, 'doctor'));
}
