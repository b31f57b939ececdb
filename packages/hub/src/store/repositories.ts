/**
 * One repository per aggregate, all over one database handle: the store itself, or a transaction
 * (`Store.transaction`), so domain code that changes several aggregates at once writes them in one.
 */
import { ActivityRepository } from './activity.ts';
import { AgentRepository } from './agents.ts';
import { ApprovalRepository } from './approvals.ts';
import { EventRepository, type FastEventInsert } from './assignment-events.ts';
import { AssignmentRepository } from './assignments.ts';
import { AuditRepository } from './audit.ts';
import { ChainRepository } from './chains.ts';
import { ContextRepository } from './context.ts';
import type { Db, StoreKind } from './db.ts';
import { DeviceRepository } from './devices.ts';
import { GatewayRelayRepository } from './gateway-relay.ts';
import { HubInstanceRepository } from './hub-instances.ts';
import { GatewayRepository } from './gateways.ts';
import { IdempotencyKeyRepository } from './idempotency-keys.ts';
import { MailboxRepository } from './mailbox.ts';
import { MessageRepository } from './messages.ts';
import { MetaRepository } from './meta.ts';
import { TaskRepository } from './tasks.ts';
import { TokenRepository } from './tokens.ts';
import { UserRepository } from './users.ts';
import { WorkRepository } from './work.ts';

export class Repositories {
  readonly meta: MetaRepository;
  readonly users: UserRepository;
  readonly tokens: TokenRepository;
  readonly agents: AgentRepository;
  readonly gateways: GatewayRepository;
  readonly gatewayRelay: GatewayRelayRepository;
  readonly hubInstances: HubInstanceRepository;
  readonly assignments: AssignmentRepository;
  readonly events: EventRepository;
  readonly approvals: ApprovalRepository;
  readonly audit: AuditRepository;
  readonly activity: ActivityRepository;
  readonly messages: MessageRepository;
  readonly mailbox: MailboxRepository;
  readonly tasks: TaskRepository;
  readonly context: ContextRepository;
  readonly devices: DeviceRepository;
  readonly work: WorkRepository;
  readonly chains: ChainRepository;
  readonly idempotencyKeys: IdempotencyKeyRepository;

  constructor(
    readonly kind: StoreKind,
    db: Db,
    /** A faster path for the hottest write, where the backend has one (SQLite: a prepared statement). */
    fastInsertEvents?: FastEventInsert,
  ) {
    this.meta = new MetaRepository(db, kind);
    this.users = new UserRepository(db, kind);
    this.tokens = new TokenRepository(db, kind);
    this.agents = new AgentRepository(db, kind);
    this.gateways = new GatewayRepository(db);
    this.gatewayRelay = new GatewayRelayRepository(db);
    this.hubInstances = new HubInstanceRepository(db);
    this.assignments = new AssignmentRepository(db, kind);
    this.events = new EventRepository(db, fastInsertEvents, kind);
    this.approvals = new ApprovalRepository(db);
    this.audit = new AuditRepository(db);
    this.activity = new ActivityRepository(db, kind);
    this.messages = new MessageRepository(db, kind);
    this.mailbox = new MailboxRepository(db, kind);
    this.tasks = new TaskRepository(db, kind);
    this.context = new ContextRepository(db, kind);
    this.devices = new DeviceRepository(db);
    this.work = new WorkRepository(db);
    this.chains = new ChainRepository(db);
    this.idempotencyKeys = new IdempotencyKeyRepository(db);
  }
}
