/**
 * This tab's end of the shared activity stream: one SharedWorker per browser where there is one,
 * else leader election among the tabs. Gives the stream's status to React and its entries to
 * whoever subscribes (the query cache, the Activity view, the Needs you announcer).
 */
import { useSyncExternalStore } from 'react';
import type { ActivityEvent } from '@gantry/protocol';
import type { LiveStatus } from './activity-stream.ts';
import { joinLeaderElection } from './leader.ts';
import type { ToOwner, ToTabs } from './messages.ts';

export interface LiveState {
  status: LiveStatus;
  /** The newest entry id the stream has seen (where history ends and live begins). */
  lastEventId: number | undefined;
}

type EntryListener = (entries: ActivityEvent[]) => void;
type ReadyListener = (id: number, resumed: boolean) => void;

let state: LiveState = { status: 'connecting', lastEventId: undefined };
const stateListeners = new Set<() => void>();
const entryListeners = new Set<EntryListener>();
const readyListeners = new Set<ReadyListener>();
let send: ((message: ToOwner) => void) | undefined;

function receive(message: ToTabs): void {
  if (message.t === 'status') setState({ status: message.status, lastEventId: message.lastEventId });
  if (message.t === 'ready') {
    setState({ status: 'live', lastEventId: message.id });
    for (const listener of readyListeners) listener(message.id, message.resumed);
  }
  if (message.t === 'entries') {
    setState({ ...state, lastEventId: message.entries.at(-1)?.id ?? state.lastEventId });
    for (const listener of entryListeners) listener(message.entries);
  }
}

function setState(next: LiveState): void {
  if (next.status === state.status && next.lastEventId === state.lastEventId) return;
  state = next;
  for (const listener of stateListeners) listener();
}

/** Connects this tab (once); later calls only say hello again. */
export function connectLive(): void {
  if (!send) send = open();
  send({ t: 'hello' });
}

function open(): (message: ToOwner) => void {
  const nudge = () => send?.({ t: 'nudge' });
  window.addEventListener('online', nudge);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && state.status === 'reconnecting') nudge();
  });
  if (typeof SharedWorker === 'function') {
    try {
      const worker = new SharedWorker(new URL('./shared-worker.ts', import.meta.url), {
        type: 'module',
        name: 'gantry-activity',
      });
      worker.port.onmessage = (event: MessageEvent<ToTabs>) => receive(event.data);
      worker.port.start();
      window.addEventListener('pagehide', () => worker.port.postMessage({ t: 'bye' } satisfies ToOwner));
      return (message) => worker.port.postMessage(message);
    } catch {
      // A browser that refuses the worker (a strict policy, a private mode) falls back to tabs.
    }
  }
  return joinLeaderElection(receive).send;
}

/** After signing in again: the stream stopped when the session ended. */
export function restartLive(): void {
  send?.({ t: 'start' });
}

/** Signing out here stops the stream for every tab. */
export function stopLive(): void {
  send?.({ t: 'stop' });
}

export function onEntries(listener: EntryListener): () => void {
  entryListeners.add(listener);
  return () => entryListeners.delete(listener);
}

export function onReady(listener: ReadyListener): () => void {
  readyListeners.add(listener);
  return () => readyListeners.delete(listener);
}

export function liveState(): LiveState {
  return state;
}

export function useLive(): LiveState {
  return useSyncExternalStore(
    (listener) => {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    () => state,
  );
}
