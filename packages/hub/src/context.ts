/** Everything the hub's transports need, built once in `createHub` and passed down. */
import type { Logger } from '@gantry/protocol';
import type { Bus } from './bus.ts';
import type { Dispatcher } from './dispatch/dispatcher.ts';
import type { Links } from './dispatch/links.ts';
import type { DispatchSettings } from './dispatch/settings.ts';
import type { Activity } from './domain/activity.ts';
import type { Approvals } from './domain/approvals.ts';
import type { Messages } from './domain/messages.ts';
import type { Assignments } from './domain/assignments.ts';
import type { Store } from './store/store.ts';

export interface HubContext {
  store: Store;
  bus: Bus;
  activity: Activity;
  messages: Messages;
  assignments: Assignments;
  approvals: Approvals;
  links: Links;
  dispatcher: Dispatcher;
  settings: DispatchSettings;
  log: Logger;
  startedAt: number;
}
