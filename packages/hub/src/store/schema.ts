/** Table types for Kysely. Times are milliseconds since the epoch; JSON is text. */
import type { GatewayRelayTable } from './gateway-relay.ts';
import type { GatewayTable } from './gateways.ts';
import type { HubInstanceTable } from './hub-instances.ts';
import type { IdempotencyKeyTable } from './idempotency-keys.ts';

export interface WorkspaceTable {
  id: string;
  name: string;
  created_at: number;
}

export interface UserTable {
  id: string;
  workspace_id: string;
  handle: string;
  /** `owner`, `admin` or `member`. */
  role: string;
  created_at: number;
  /** The person this membership belongs to: one person's memberships share it (DESIGN §5). */
  person_id: string;
}

export interface AgentTable {
  id: string;
  workspace_id: string;
  name: string;
  kind: string;
  created_at: number;
  /** 1 while paused: mentions queue without running (`gantry agents pause`). */
  paused: number;
  /** The template it was added from (`gantry agents add`), if any. */
  template: string | null;
  /** Set when removed while history still refers to it: it is then unlisted and unusable. */
  removed_at: number | null;
}

export interface TokenTable {
  id: string;
  kind: string;
  owner_id: string;
  workspace_id: string;
  secret_hash: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
  /** A run token's assignment (`0014_chains`): it is valid only while that run goes on. */
  assignment_id: string | null;
}

export interface GatewayAgentTable {
  gateway_id: string;
  agent_id: string;
  provider: string | null;
  created_at: number;
}

export interface AssignmentTable {
  id: string;
  workspace_id: string;
  agent_id: string;
  prompt: string;
  session_key: string;
  mode: string;
  timeout_ms: number;
  retries: number;
  state: string;
  attempt: number;
  gateway_id: string | null;
  /** The offer the attempt is held under (its fencing token); null while queued. */
  offer_id: string | null;
  lease_expires_at: number | null;
  created_by: string;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  result_output: string | null;
  result_exit_code: number | null;
  error_code: string | null;
  error_message: string | null;
  /** `fail` or `new`: what a continuation does when its provider session cannot be resumed. */
  resume_fallback: string;
  /** The result frame's `details` (branch, changed files, usage) as JSON, when it had any. */
  result_details: string | null;
  /** Its chain's root id (`0014_chains`). */
  chain_id: string;
  /** Runs from the chain's root to it: 1 for a run a person started directly. */
  depth: number;
  /** The run (assignment id) whose action started it; null for a chain's first run. */
  cause_id: string | null;
}

export interface AssignmentEventTable {
  assignment_id: string;
  attempt: number;
  seq: number;
  type: string;
  ts: string;
  data: string;
}

export interface AuditTable {
  id: string;
  workspace_id: string;
  ts: number;
  /** Who did it: `user:ID`, `agent:ID`, `gateway:ID` or `hub`. */
  actor: string;
  action: string;
  /** What it was done to, e.g. an assignment id. */
  subject: string;
  data: string;
}

export interface ApprovalTable {
  id: string;
  workspace_id: string;
  /** `tool_permission`. */
  kind: string;
  /** `pending`, `approved`, `denied` or `expired`. */
  status: string;
  tool: string;
  input: string;
  /** One line saying what is asked, e.g. `Bash: touch notes.txt`. */
  subject: string;
  agent_id: string;
  assignment_id: string;
  attempt: number;
  /** The gateway's id of the request within its attempt. */
  request_id: string;
  created_at: number;
  decided_at: number | null;
  /** A user's id, `policy` or `timeout`; null while pending or when the attempt ended first. */
  decided_by: string | null;
  /** 1 once the gateway confirmed the decision with a `permission_decided` event. */
  answered: number;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface CounterTable {
  name: string;
  value: number;
}

/** The workspace activity log: every change emits one row, ids in commit order. */
export interface ActivityTable {
  id: number;
  workspace_id: string;
  type: string;
  ts: number;
  actor_kind: string | null;
  actor_id: string | null;
  actor_name: string | null;
  /** What it is about: a message, task, assignment or agent id, a context key. */
  subject: string | null;
  data: string;
  /** JSON of what only the hub's own readers use (`ActivityInternal`), never served; null for none. */
  internal: string | null;
}

export interface MessageTable {
  id: string;
  workspace_id: string;
  author_kind: string;
  author_id: string;
  author_name: string;
  body: string;
  /** JSON: [{ kind, id, name }]. */
  mentions: string;
  parent_id: string | null;
  /** The thread's first message id (its own id for a top-level message). */
  thread_id: string;
  /** JSON object. */
  metadata: string;
  /** How many agent replies in a row led to this message (mention chains stop at a limit). */
  hops: number;
  created_at: number;
  /** The activity id of its `message.created`: the order of messages. */
  seq: number;
  /** Its chain's root id (`0014_chains`): its own id for a message that starts one. */
  chain_id: string;
  /** 0 for a person's message, the run's depth for a message a run wrote. */
  depth: number;
}

export interface MailboxTable {
  message_id: string;
  recipient_kind: string;
  recipient_id: string;
  seq: number;
  delivered_at: number | null;
  read_at: number | null;
}

export interface TaskTable {
  id: string;
  workspace_id: string;
  title: string;
  body: string;
  status: string;
  priority: string;
  intent: string;
  assignee_id: string | null;
  created_by_kind: string;
  created_by_id: string;
  /** The assignment working on it, when assigned to a managed agent. */
  assignment_id: string | null;
  /** The message thread about it (a handoff's), if any. */
  thread_id: string | null;
  error: string | null;
  created_at: number;
  updated_at: number;
}

export interface ContextEntryTable {
  workspace_id: string;
  key: string;
  kind: string;
  value: string | null;
  content_type: string;
  size: number;
  sha256: string | null;
  updated_by: string;
  updated_at: number;
  /** A file's chunks in `context_chunks`. */
  upload_id: string | null;
}

export interface ContextChunkTable {
  workspace_id: string;
  key: string;
  upload_id: string;
  n: number;
  bytes: Uint8Array;
}

/** A run the hub started for a mention or a task, carried to its reply and its task's move. */
export interface WorkTable {
  /** The activity entry that asked for it (`message.created`, `task.created` or `task.updated`). */
  trigger_id: number;
  agent_id: string;
  workspace_id: string;
  /** The mentioning message: the reply's parent. */
  message_id: string | null;
  thread_id: string | null;
  /** The task its outcome moves. */
  task_id: string | null;
  session_key: string;
  assignment_id: string | null;
  /** `claimed` -> `dispatched` -> `replying` -> `done`. */
  state: string;
  reply_id: string | null;
  created_at: number;
  updated_at: number;
  /** The chain the run is (or would be) part of (`0014_chains`). */
  chain_id: string | null;
  /** The run's depth in it. */
  depth: number;
}

/** A chain of runs (`0014_chains`): its root, the person who started it, the limits raised for it. */
export interface ChainTable {
  /** The root's id: a message, assignment or task id (or an unattended trigger's). */
  id: string;
  workspace_id: string;
  /** `message`, `assignment`, `task` or `trigger`. */
  root_kind: string;
  /** The person at its root; null when nobody started it (an unattended trigger). */
  person_id: string | null;
  person_name: string | null;
  /** Null: the hub's `--chain-max-depth`. */
  max_depth: number | null;
  /** Null: the hub's `--chain-max-runs`. */
  max_runs: number | null;
  created_at: number;
  updated_at: number;
  /** When a limit stopped it and nobody has continued or dismissed it since; null otherwise. */
  stopped_at: number | null;
  /** `depth` or `runs`: the limit that stopped it last. */
  stopped_limit: string | null;
  /** The agent its last stop did not run. */
  stopped_agent_id: string | null;
}

/** A gateway's device key and the fingerprint it last proved (`0008_devices`). */
export interface DeviceTable {
  gateway_id: string;
  workspace_id: string;
  public_key: string;
  fingerprint: string;
  hostname: string;
  os_user: string;
  created_at: number;
  updated_at: number;
}

/** Trust of one gateway for one agent at one fingerprint; its id is the approval's id. */
export interface DeviceGrantTable {
  id: string;
  workspace_id: string;
  gateway_id: string;
  agent_id: string;
  kind: string;
  status: string;
  subject: string;
  fingerprint: string;
  hostname: string;
  os_user: string;
  created_at: number;
  decided_at: number | null;
  decided_by: string | null;
}

/** A pass-through folder on a gateway's machine, speaking for one agent (`0010_folders`); its id is the approval's id. */
export interface FolderTable {
  id: string;
  workspace_id: string;
  gateway_id: string;
  agent_id: string;
  workdir: string;
  hostname: string;
  os_user: string;
  /** `pending`, `approved` or `denied`. */
  status: string;
  subject: string;
  created_at: number;
  decided_at: number | null;
  decided_by: string | null;
  /** When the hub last handed the gateway this agent's key. */
  key_issued_at: number | null;
}

/** A dashboard browser session (`0012_web_sessions`): the cookie's and CSRF token's hashes, never the secrets. */
export interface WebSessionTable {
  id_hash: string;
  csrf_hash: string;
  /** The user token it was signed in with; the session lives only while that token does. */
  token_id: string;
  workspace_id: string;
  created_at: number;
  last_used_at: number;
  /** Ends then unless used again (each use pushes it forward). */
  idle_expires_at: number;
  /** The absolute end, however busy the session is. */
  expires_at: number;
}

/** A one-time sign-in code (`gantry dashboard`): used once, before `expires_at`. */
export interface WebSigninCodeTable {
  code_hash: string;
  /** The user token of whoever asked for the link: the session it opens acts with that token. */
  token_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface Database {
  workspaces: WorkspaceTable;
  users: UserTable;
  agents: AgentTable;
  tokens: TokenTable;
  gateways: GatewayTable;
  gateway_agents: GatewayAgentTable;
  assignments: AssignmentTable;
  assignment_events: AssignmentEventTable;
  meta: MetaTable;
  audit: AuditTable;
  approvals: ApprovalTable;
  counters: CounterTable;
  activity: ActivityTable;
  messages: MessageTable;
  mailbox: MailboxTable;
  tasks: TaskTable;
  context_entries: ContextEntryTable;
  context_chunks: ContextChunkTable;
  work: WorkTable;
  devices: DeviceTable;
  device_grants: DeviceGrantTable;
  folders: FolderTable;
  web_sessions: WebSessionTable;
  web_signin_codes: WebSigninCodeTable;
  chains: ChainTable;
  idempotency_keys: IdempotencyKeyTable;
  gateway_relay: GatewayRelayTable;
  hub_instances: HubInstanceTable;
}
