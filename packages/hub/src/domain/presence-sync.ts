/**
 * Presence across the hubs of one system: each hub tells the others through the bus when an id's
 * inbox presence on it changes, and re-tells every wait it holds open each `refreshMs` (and after a
 * bus gap), so a wait on hub B makes the agent `live` in reachability on hub A, and a hub that died
 * stops counting once its reports go stale (presence.ts).
 */
import type { NoticeBus } from '../bus.ts';
import type { Presence } from './presence.ts';

export function sharePresence(
  presence: Presence,
  bus: NoticeBus,
  node: string,
  refreshMs: number,
): () => void {
  presence.onChange = (id) => bus.emit('presence', { node, reports: [presence.own(id)] });
  const off = bus.on('presence', (notice) => {
    if (notice.node !== node) presence.heard(notice.node, notice.reports);
  });
  const tell = () => {
    const reports = presence.openIds().map((id) => presence.own(id));
    if (reports.length > 0) bus.emit('presence', { node, reports });
  };
  const timer = setInterval(tell, refreshMs);
  timer.unref();
  const offGap = bus.onGap(tell);
  return () => {
    off();
    offGap();
    clearInterval(timer);
    presence.onChange = undefined;
  };
}
