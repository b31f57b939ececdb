/** Everything the hub's transports need, built once in `createHub` and passed down. */
import type { Logger } from '@gantry/protocol';
import type { Bus } from './bus.ts';
import type { Dispatcher } from './dispatch/dispatcher.ts';
import type { LeaseRenewals } from './dispatch/lease-renewals.ts';
import type { Links } from './dispatch/links.ts';
import type { DispatchSettings } from './dispatch/settings.ts';
import type { Activity } from './domain/activity.ts';
import type { ApprovalNotices } from './domain/approval-notices.ts';
import type { Approvals } from './domain/approvals.ts';
import type { ChainLimits } from './domain/chain-limits.ts';
import type { Deadlocks } from './domain/deadlocks.ts';
import type { GatewayPort } from './domain/gateway-port.ts';
import type { GatewayRelay } from './domain/gateway-relay.ts';
import type { Stopping } from './domain/stopping.ts';
import type { Devices } from './domain/devices.ts';
import type { ContextStore } from './domain/context-store.ts';
import type { Handoffs } from './domain/handoffs.ts';
import type { Mailbox } from './domain/mailbox.ts';
import type { Messages } from './domain/messages.ts';
import type { Presence } from './domain/presence.ts';
import type { Reachability } from './domain/reachability.ts';
import type { Assignments } from './domain/assignments.ts';
import type { Tasks } from './domain/tasks.ts';
import type { AgentTemplates } from './domain/templates.ts';
import type { Store } from './store/store.ts';
import type { WebSettings } from './web-settings.ts';
import type { HubInstance } from './domain/hub-instance.ts';

export interface HubContext {
  store: Store;
  bus: Bus;
  activity: Activity;
  messages: Messages;
  /** Callers' mailboxes: inbox (with its delivery cursor), listing, read state, reply waits. */
  mailbox: Mailbox;
  /** Who is waiting on their inbox now (in memory, this process). */
  presence: Presence;
  assignments: Assignments;
  approvals: Approvals;
  /** Every approval asked for: an activity entry and a message to who can decide it. */
  notices: ApprovalNotices;
  /** Gateway device keys, fingerprints and their trust per agent. */
  devices: Devices;
  deadlocks: Deadlocks;
  stopping: Stopping;
  /** The task ledger; its changes tell the work dispatcher what to run. */
  tasks: Tasks;
  /** Context entries and file artifacts. */
  contextEntries: ContextStore;
  /** Whether each agent can answer now (gateways connected, inbox waits open). */
  reachability: Reachability;
  /** Chains' limits: what stops a runaway, and `chains continue` (DESIGN §6a). */
  chains: ChainLimits;
  /** Work handed to an agent with a wait for its reply (`gantry handoff`, MCP `handoff`). */
  handoffs: Handoffs;
  /** Agents from templates (`agents add`, handed to their gateway) and their removal. */
  templates: AgentTemplates;
  links: Links;
  /** Frames for a gateway wherever it is connected: here, or another hub of the system. */
  gateways: GatewayPort;
  /** `attach` and `rekey` (an agent key in them) for a gateway connected to another hub, through the store. */
  relay: GatewayRelay;
  dispatcher: Dispatcher;
  /** Leases and last-seen times of gateways heard from, written in batches. */
  renewals: LeaseRenewals;
  settings: DispatchSettings;
  /** Browser sessions and the dashboard. */
  web: WebSettings;
  log: Logger;
  startedAt: number;
  /** The hub system's id (`/v1/health`): the same on every hub of one store. */
  hubId: string;
  /** This hub process: gateways it holds the sockets of are marked with its id. */
  instance: HubInstance;
}
