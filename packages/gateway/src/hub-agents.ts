/**
 * The agents one hub has this gateway serve, and what the gateway tells that hub of them: agents
 * the hub attaches or detaches (saved 0600, or forgotten), the free slots (per gateway and per
 * agent) and the bindings mirrored to the hub. `HubSession` hands it the frames and sends what it says.
 */
import type { GatewayFrameOf, HubFrameOf, Logger } from '@gantry/protocol';
import type { GantryPaths } from '@gantry/protocol/node';
import type { AgentBindings } from './agent-bindings.ts';
import { detachAgent, tryAttachAgent } from './attach.ts';
import type { AttemptTable } from './attempts.ts';
import type { GatewaySession } from './session-file.ts';

export interface HubAgentsDeps {
  session(): GatewaySession;
  paths: Pick<GantryPaths, 'sessionFile' | 'bindingsFile'>;
  table: AttemptTable;
  bindings: AgentBindings;
  /** Answers the hub's `attach`. */
  send(frame: GatewayFrameOf<'attached'>): void;
  /** Tells the hub the free slots and bindings now (after a change). */
  report(): void;
  log: Logger;
}

export class HubAgents {
  constructor(private readonly deps: HubAgentsDeps) {}

  /** An agent the hub added for this gateway: saved (0600) and served from now on. */
  attach(frame: HubFrameOf<'attach'>): void {
    const answer = tryAttachAgent(this.files, frame);
    if (answer.ok) this.deps.bindings.reload();
    this.deps.log.info(answer.ok ? 'the hub added an agent' : 'could not add an agent', {
      agent: frame.agent.name,
      provider: frame.binding.provider,
      ...(answer.ok ? {} : { error: answer.error }),
    });
    this.deps.send({ t: 'attached', requestId: frame.requestId, agentId: frame.agent.id, ...answer });
    if (answer.ok) this.deps.report();
  }

  /** The hub removed or detached an agent: its key and binding are forgotten; it gets no more work. */
  detach(agentId: string): void {
    const name = this.deps.session().agents.find((a) => a.id === agentId)?.name ?? agentId;
    if (detachAgent(this.files, agentId)) {
      this.deps.bindings.reload();
      this.deps.log.info('the hub detached an agent', { agent: name });
      this.deps.report();
    }
  }

  /** Where the session's agents and their bindings are saved. */
  get files() {
    const { sessionFile, bindingsFile } = this.deps.paths;
    return { session: this.deps.session(), sessionFile, bindingsFile };
  }

  /** The machine's free slots, and each of this hub's agents'. */
  capacity() {
    const { bindings } = this.deps;
    return this.deps.table.capacity(
      this.deps.session().agents.map((a) => {
        const binding = bindings.of(a.id);
        return { agentId: a.id, provider: binding.provider, parallel: bindings.parallelOf(binding) };
      }),
    );
  }

  /** What each served agent is bound to, mirrored to the hub (which audits changes). */
  bindingSummary() {
    return this.deps.session().agents.map((a) => {
      const binding = this.deps.bindings.of(a.id);
      return {
        agentId: a.id,
        provider: binding.provider,
        workdir: binding.workdir,
        isolation: binding.settings.isolation ?? null,
        parallel: binding.parallel,
      };
    });
  }
}
