/** What the stream's owner (SharedWorker or leader tab) and the tabs say to each other. */
import type { ActivityEvent } from '@gantry/protocol';
import type { LiveStatus } from './activity-stream.ts';

export type ToTabs =
  | { t: 'status'; status: LiveStatus; lastEventId: number | undefined }
  | { t: 'ready'; id: number; resumed: boolean }
  | { t: 'entries'; entries: ActivityEvent[] };

export type ToOwner =
  /** A tab joined: tell it the status (and start the stream if it is not running). */
  | { t: 'hello' }
  /** A tab signed in again after the session ended: start over. */
  | { t: 'start' }
  /** A tab signed out: stop streaming for every tab. */
  | { t: 'stop' }
  /** A tab saw the network come back or became visible: do not wait out the backoff. */
  | { t: 'nudge' }
  /** The tab is going away (a SharedWorker cannot tell on its own). */
  | { t: 'bye' };
