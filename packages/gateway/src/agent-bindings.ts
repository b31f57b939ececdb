/**
 * Which provider and workdir each served agent runs with: its binding from `logical-sessions.json`,
 * else the provider it was connected with and its own folder under the workspace root. `gateway bind` rewrites that
 * file while the daemon runs; the change is taken up at once (and `onChange` tells the hub).
 */
import { mkdirSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '@gantry/protocol';
import { agentFolder } from './agent-folder.ts';
import { loadBindings, type Binding } from './bindings.ts';
import type { StopGraces } from './providers/process-group.ts';
import type { Provider } from './providers/provider.ts';
import { createProvider } from './providers/registry.ts';
import type { GatewaySession } from './session-file.ts';

export class AgentBindings {
  private bound: Record<string, Binding>;
  private watcher: FSWatcher | undefined;

  constructor(
    private readonly file: string,
    /** Every hub's registration: an agent's defaults are those of the hub it was connected to. */
    private readonly sessions: () => GatewaySession[],
    private readonly graces: StopGraces,
    private readonly dataDir: string,
    private readonly log: Logger,
  ) {
    this.bound = loadBindings(file);
  }

  watch(onChange: () => void): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    this.watcher = watch(dirname(this.file), (_event, name) => {
      if (name !== basename(this.file)) return;
      try {
        this.bound = loadBindings(this.file);
      } catch (err) {
        this.log.warn('kept the previous bindings', { error: (err as Error).message });
        return;
      }
      this.log.info('bindings changed');
      onChange();
    });
  }

  close(): void {
    this.watcher?.close();
  }

  /** Reads the file now (after this process wrote it), without waiting for the watcher. */
  reload(): void {
    this.bound = loadBindings(this.file);
  }

  of(agentId: string): Binding {
    const bound = this.bound[agentId];
    if (bound) return bound;
    const session = this.sessionOf(agentId);
    const agent = session.agents.find((a) => a.id === agentId);
    const providerBin = agent?.providerBin ?? session.providerBin;
    return {
      agentId,
      agentName: agent?.name ?? agentId,
      provider: agent?.provider ?? session.provider,
      workdir: agentFolder(session.workspaceRoot, { id: agentId, name: agent?.name ?? agentId }),
      ...(providerBin ? { providerBin } : {}),
      parallel: false,
      settings: agent?.settings ?? session.settings,
      updatedAt: session.updatedAt,
    };
  }

  private sessionOf(agentId: string): GatewaySession {
    const all = this.sessions();
    const session = all.find((s) => s.agents.some((a) => a.id === agentId)) ?? all[0];
    if (!session) throw new Error('a gateway serves at least one hub');
    return session;
  }

  providerOf(binding: Binding): Provider {
    const session = this.sessionOf(binding.agentId);
    const bin =
      binding.providerBin ?? (binding.provider === session.provider ? session.providerBin : undefined);
    return createProvider(binding.provider, {
      ...(bin ? { bin } : {}),
      graces: this.graces,
      settings: binding.settings,
      stateDir: join(this.dataDir, 'providers', binding.provider),
    });
  }

  /** The provider arguments a binding's runs get (before the daemon's own `--provider-arg`s). */
  argsOf(binding: Binding): string[] {
    return binding.providerArgs ?? this.sessionOf(binding.agentId).providerArgs;
  }

  /** Runs of a worktree-isolated binding each have their own folder, so they may run at once. */
  parallelOf(binding: Binding): boolean {
    return binding.parallel || binding.settings.isolation === 'worktree';
  }
}
