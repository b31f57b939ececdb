/**
 * `gantry config show [--json]`: each gateway setting's effective value and where it came from
 * (flag, environment variable, config file, the session `gateway connect` saved, or the default).
 * Secrets are never printed, only whether one is set.
 */
import { existsSync } from 'node:fs';
import { gantryPaths, loadSession } from '@gantry/gateway';
import { configPath, resolveSettings, type ConnectFlags, type Setting } from '../gateway-settings.ts';
import { printJson, printLine, table } from '../output.ts';

export function show(flags: ConnectFlags & { json?: boolean }): void {
  const file = configPath(flags);
  const session = loadSession(gantryPaths().sessionFile);
  const settings = resolveSettings(flags, { ...(session ? { session } : {}) });
  const entries = Object.entries(settings).map(([key, setting]) => ({
    key,
    value: shown(setting),
    source: setting.source,
    ...(setting.from ? { from: setting.from } : {}),
  }));
  if (flags.json)
    return printJson({ configFile: file.path, configFileExists: existsSync(file.path), settings: entries });
  printLine(`Config file  ${file.path}${existsSync(file.path) ? '' : ' (none yet)'}`);
  printLine();
  printLine(
    table([
      ['KEY', 'VALUE', 'FROM'],
      ...entries.map((e) => [
        e.key,
        e.value === null ? '-' : Array.isArray(e.value) ? e.value.join(' ') || '(none)' : String(e.value),
        e.from ? `${e.source} (${e.from})` : e.source,
      ]),
    ]),
  );
}

function shown(setting: Setting): Setting['value'] | null {
  if (setting.value === undefined) return null;
  return setting.secret ? '(set)' : setting.value;
}
