/**
 * Managed agents at work: a message that mentions one, or a task assigned to one, dispatches one
 * assignment for it (`work-triggers.ts`); when that ends, its result is posted as the agent's reply
 * in the thread and moves the task (`work-replies.ts`). Driven by the bus, never by polling; the
 * `work` table (its store repository) makes each dispatch and each reply happen once, across restarts
 * (`work-recovery.ts`).
 */
import type { Logger } from '@gantry/protocol';
import type { Bus } from '../bus.ts';
import type { Store } from '../store/store.ts';
import type { Activity } from './activity.ts';
import type { Assignments } from './assignments.ts';
import type { ChainLimits } from './chain-limits.ts';
import type { Messages } from './messages.ts';
import type { Tasks } from './tasks.ts';
import { recoverWork } from './work-recovery.ts';
import { WorkReplies } from './work-replies.ts';
import { triggerTypes, WorkTriggers } from './work-triggers.ts';

export interface WorkDeps {
  store: Store;
  bus: Bus;
  activity: Activity;
  messages: Messages;
  assignments: Assignments;
  tasks: Tasks;
  limits: ChainLimits;
  log: Logger;
}

export class Work {
  private readonly replies: WorkReplies;
  private readonly triggers: WorkTriggers;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(private readonly deps: WorkDeps) {
    this.replies = new WorkReplies(deps);
    this.triggers = new WorkTriggers(deps, (id) => this.replies.follow(id));
  }

  /** Subscribes, then finishes what a previous run of the hub left: runs that ended while it was down. */
  async start(): Promise<void> {
    await this.triggers.load();
    await recoverWork(this.deps.store, this.triggers, this.replies);
    this.unsubscribe.push(
      this.deps.bus.on('activity', ({ type }) => {
        if (triggerTypes.includes(type)) this.triggers.kick();
      }),
      this.deps.bus.on('assignment', ({ assignmentId }) => this.replies.changed(assignmentId)),
      // Notices from other hubs may have been lost: look at everything followed again.
      this.deps.bus.onGap(() => {
        this.triggers.kick();
        this.replies.recheck();
      }),
    );
    this.triggers.kick();
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.triggers.stop();
  }

  /** Saves how far the activity log has been read for work (at stop, once `idle`). */
  saveCursor(): Promise<void> {
    return this.triggers.saveCursor();
  }

  /** Resolves when no dispatch or reply is in progress (for shutdown and tests). */
  async idle(): Promise<void> {
    // A reply posted is a new entry to read, and a dispatch a new run to follow: wait out both.
    while (this.triggers.busy || this.replies.busy) {
      await this.triggers.idle();
      await this.replies.idle();
    }
  }
}
