/**
 * What the command specs share: running a lazily loaded command, and the option blocks many
 * commands take (`--hub/--token/--workspace`, `--json`, the web options of `hub start` and `up`).
 * Commander only: nothing here loads a command's code, zod or the hub client.
 */
import { Option, type Command } from 'commander';
import { reportError } from '../output.ts';

/** A command module, loaded only when its command runs. */
export type Loader = () => Promise<Record<string, unknown>>;

/** Runs `fn` from a lazily loaded module; errors become a message and an exit code. */
export function action(loader: Loader, fn: string) {
  return async (...args: unknown[]) => {
    const options = (args.at(-2) ?? {}) as { json?: boolean };
    // A last argument of several words (`gantry send @bob hello there`, `<text...>`) is one text.
    const given = args.slice(0, -1).map((a) => (Array.isArray(a) ? a.join(' ') : a));
    try {
      const mod = await loader();
      await (mod[fn] as (...a: unknown[]) => Promise<void>)(...given);
    } catch (err) {
      process.exitCode = reportError(err, options.json === true);
    }
  };
}

/** Which hub, as whom, in which workspace: every command that talks to the hub takes these. */
export function hubOptions(cmd: Command): Command {
  return cmd
    .option('--hub <url>', 'hub URL (default: GANTRY_HUB_URL, then your login)')
    .option('--token <token>', 'credential (default: GANTRY_TOKEN, then your login)')
    .option(
      '--workspace <name>',
      "act in this workspace, by name or id (default: GANTRY_WORKSPACE, then your token's)",
    );
}

/** `--json`, last among a command's options; `description` says what the JSON holds. */
export function withJson(cmd: Command, description = 'JSON output'): Command {
  return cmd.option('--json', description);
}

/** Where browsers reach the hub, and https: `hub start` and `up` take the same. */
export function webOptions(cmd: Command): Command {
  return cmd
    .option(
      '--public-url <url>',
      'where browsers reach this hub, e.g. behind a TLS proxy: https://gantry.example.com (GANTRY_PUBLIC_URL)',
    )
    .option('--tls-cert <file>', 'serve https with this certificate (PEM; with --tls-key)')
    .option('--tls-key <file>', "the certificate's private key (PEM)");
}

/** An option that takes one of `values`, listed in its help. */
export function choice(flags: string, what: string, values: readonly string[]): Option {
  return new Option(flags, `${what}: ${values.join(', ')}`).choices(values);
}
