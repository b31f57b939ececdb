/** A task's statuses, priorities and kinds of work (no zod: the CLI's `tasks` options list them). */
export const taskStatuses = ['open', 'in_progress', 'blocked', 'done', 'cancelled'] as const;
export const taskPriorities = ['low', 'medium', 'high', 'urgent'] as const;
export const taskIntents = ['general', 'review', 'implement', 'qa', 'status', 'incident'] as const;
