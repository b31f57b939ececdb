/**
 * Where SharedWorker is missing (Chrome on Android, some embedded browsers): the tabs elect a
 * leader with a Web Lock; the leader holds the one stream and passes everything on over a
 * BroadcastChannel. When the leader closes its lock is released, the next tab takes over and
 * resumes from the last id it heard, so nothing is missed.
 */
import { ActivityStream } from './activity-stream.ts';
import type { ToOwner, ToTabs } from './messages.ts';

export interface Owner {
  send(message: ToOwner): void;
}

const lockName = 'gantry-activity-stream';

/** Joins the tabs' channel; `deliver` gets every message for tabs (also those this tab sends as leader). */
export function joinLeaderElection(deliver: (message: ToTabs) => void): Owner {
  const channel = new BroadcastChannel('gantry-activity');
  let stream: ActivityStream | undefined;
  let lastEventId: number | undefined;

  const toTabs = (message: ToTabs) => {
    channel.postMessage(message);
    deliver(message);
  };
  const handle = (message: ToOwner) => {
    if (!stream) return;
    if (message.t === 'hello')
      toTabs({ t: 'status', status: stream.status, lastEventId: stream.lastEventId });
    if (message.t === 'hello' || message.t === 'start') stream.start();
    if (message.t === 'stop') stream.stop();
    if (message.t === 'nudge') stream.retryNow();
  };

  channel.onmessage = (event: MessageEvent<ToTabs | ToOwner>) => {
    const message = event.data;
    if (message.t === 'entries' || message.t === 'status' || message.t === 'ready') {
      if (message.t === 'entries') lastEventId = message.entries.at(-1)?.id ?? lastEventId;
      if (message.t === 'ready') lastEventId = message.id;
      deliver(message);
    } else handle(message);
  };

  const lead = () => {
    const leader = new ActivityStream({
      status: (status) => toTabs({ t: 'status', status, lastEventId: leader.lastEventId }),
      ready: (id, resumed) => toTabs({ t: 'ready', id, resumed }),
      entries: (entries) => toTabs({ t: 'entries', entries }),
    });
    // Carry on where the previous leader stopped.
    leader.lastEventId = lastEventId;
    stream = leader;
    leader.start();
    // Held until this tab closes: the browser releases the lock then.
    return new Promise<void>(() => {});
  };
  if ('locks' in navigator) void navigator.locks.request(lockName, lead);
  else void lead(); // no Web Locks either: this tab keeps a stream of its own

  return {
    send(message) {
      if (stream) handle(message);
      else channel.postMessage(message);
    },
  };
}
