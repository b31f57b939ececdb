/** Task statuses and priorities as values (protocol is imported for types only). */
import type { Task } from '@gantry/protocol';

export const statuses: Task['status'][] = ['open', 'in_progress', 'blocked', 'done', 'cancelled'];
export const priorities: Task['priority'][] = ['low', 'medium', 'high', 'urgent'];
export const statusNames: Record<Task['status'], string> = {
  open: 'Open',
  in_progress: 'In progress',
  blocked: 'Blocked',
  done: 'Done',
  cancelled: 'Cancelled',
};
