/** The audit log: who did what security-relevant thing, kept apart from the public activity log. */
import { newId } from '../ids.ts';
import type { Db } from './db.ts';

export class AuditRepository {
  constructor(private readonly db: Db) {}

  async record(entry: {
    workspaceId: string;
    actor: string;
    action: string;
    subject: string;
    data: unknown;
  }) {
    const now = Date.now();
    await this.db
      .insertInto('audit')
      .values({
        id: newId('aud', now),
        workspace_id: entry.workspaceId,
        ts: now,
        actor: entry.actor,
        action: entry.action,
        subject: entry.subject,
        data: JSON.stringify(entry.data),
      })
      .execute();
  }

  list(workspaceId: string, limit = 100) {
    return this.db
      .selectFrom('audit')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .orderBy('ts', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }
}
