/**
 * A secret given as an argument (`--token T`, `--api-key KEY`) is visible to every user of the
 * machine in `ps` while the command runs, and `listen`, `events stream`, `mcp` or a gateway run for
 * days. So the process rewrites its argument area without them as it starts (`process.title` does,
 * on Linux and macOS). Node 20 cannot exec itself anew, and a child started without the secret
 * would leave its parent, which a terminal or service manager waits on, holding it.
 */
const secretFlags = ['--token', '--api-key'];

export function hideSecretArguments(argv: readonly string[] = process.argv): void {
  const kept: string[] = [];
  let hidden = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const next = argv[i + 1];
    // `-` asks for the secret on standard input: nothing to hide.
    if (secretFlags.includes(arg) && next !== undefined && next !== '-') {
      i++;
      hidden = true;
    } else if (secretFlags.some((flag) => arg.startsWith(`${flag}=`) && arg !== `${flag}=-`)) hidden = true;
    else kept.push(arg);
  }
  if (hidden) process.title = kept.join(' ');
}
