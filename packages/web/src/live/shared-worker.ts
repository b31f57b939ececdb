/**
 * The SharedWorker that holds the browser's one activity stream for all of its tabs on this hub
 * (browsers allow six connections per host over HTTP/1.1), and hands every entry to each tab.
 */
import { ActivityStream } from './activity-stream.ts';
import type { ToOwner, ToTabs } from './messages.ts';

interface ConnectEvent {
  ports: readonly MessagePort[];
}
const scope = globalThis as unknown as { onconnect: ((event: ConnectEvent) => void) | null };

const ports = new Set<MessagePort>();

function broadcast(message: ToTabs): void {
  for (const port of ports) port.postMessage(message);
}

const stream = new ActivityStream({
  status: (status) => broadcast({ t: 'status', status, lastEventId: stream.lastEventId }),
  ready: (id, resumed) => broadcast({ t: 'ready', id, resumed }),
  entries: (entries) => broadcast({ t: 'entries', entries }),
});

scope.onconnect = (event) => {
  const port = event.ports[0];
  if (!port) return;
  ports.add(port);
  port.onmessage = (message: MessageEvent<ToOwner>) => {
    switch (message.data.t) {
      case 'hello':
        port.postMessage({
          t: 'status',
          status: stream.status,
          lastEventId: stream.lastEventId,
        } satisfies ToTabs);
        stream.start();
        break;
      case 'start':
        stream.start();
        break;
      case 'stop':
        stream.stop();
        break;
      case 'nudge':
        stream.retryNow();
        break;
      case 'bye':
        ports.delete(port);
        break;
    }
  };
  port.start();
};
