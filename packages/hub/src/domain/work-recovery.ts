/**
 * What a restart finds of the work dispatcher's records: runs dispatched before it are followed
 * again (those that ended meanwhile reply now), a reply cut short is finished, and a dispatch cut
 * short before its assignment existed is redone by reading its entry again.
 */
import type { Store } from '../store/store.ts';
import type { WorkReplies } from './work-replies.ts';
import type { WorkTriggers } from './work-triggers.ts';

export async function recoverWork(store: Store, triggers: WorkTriggers, replies: WorkReplies): Promise<void> {
  const rows = await store.work.unfinished();
  const cut = rows.filter((r) => r.state === 'claimed');
  if (cut.length > 0) {
    await store.work.dropClaimed();
    triggers.rewind(Math.min(...cut.map((r) => Number(r.trigger_id))));
  }
  for (const work of rows) {
    if (!work.assignment_id) continue;
    if (work.state === 'dispatched') {
      replies.follow(work.assignment_id);
    } else if (work.state === 'finishing') {
      const row = await store.assignments.get(work.assignment_id);
      if (row) await replies.finish(work, row);
    }
  }
}
