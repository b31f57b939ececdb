/**
 * The provider options of `gateway connect|run|bind` (commander only: the program defines them
 * before any command module loads; provider-flags.ts reads them).
 */
import { Option, type Command } from 'commander';

export const collect = (value: string, previous: string[] = []) => [...previous, value];

export function providerOptions(command: Command, { isolation = false } = {}): Command {
  command
    .option('--codex-bin <path>', 'codex binary (default: CODEX_BIN, then codex on PATH)')
    .option('--claude-bin <path>', 'claude binary (default: CLAUDE_BIN, then claude on PATH)')
    .addOption(
      new Option('--sandbox <mode>', 'codex sandbox (default workspace-write)').choices([
        'read-only',
        'workspace-write',
        'danger-full-access',
      ]),
    )
    .option('--permission-mode <mode>', "claude-code permission mode (default: Claude's own)")
    .option('--allowed-tools <list>', 'claude-code tools allowed without asking, e.g. Bash,Edit')
    .addOption(
      new Option(
        '--permission <policy>',
        'tool requests: allow, deny or ask a user (acp, ollama: default ask; claude-code, codex: unset keeps their own rules)',
      ).choices(['allow', 'deny', 'ask']),
    )
    .addOption(
      new Option(
        '--env-pass <name>',
        'pass this environment variable to the provider (repeatable)',
      ).argParser(collect),
    )
    .option('--ollama-url <url>', 'Ollama API (default http://127.0.0.1:11434)')
    .option('--ollama-model <name>', 'Ollama model');
  if (isolation)
    command.addOption(
      new Option(
        '--isolation <mode>',
        'worktree: each assignment in its own git worktree (default none)',
      ).choices(['none', 'worktree']),
    );
  return command;
}
