/** Activity entry types: each declared once, found by type (or family), and narrowed by definition. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  activityDefinition,
  activityTypes,
  defineActivity,
  isActivity,
  listenerReported,
  messageCreated,
  type ActivityEvent,
} from '../src/index.ts';

const entry = (type: string, data: Record<string, unknown>): ActivityEvent => ({
  id: 1,
  type,
  ts: '2026-01-01T00:00:00.000Z',
  actor: null,
  subject: null,
  data,
});

describe('defineActivity', () => {
  it('adds a type in one declaration: it is then found by its type and listed', () => {
    const added = defineActivity('test.added', z.object({ n: z.number() }));
    expect(activityDefinition('test.added')).toBe(added);
    expect(activityTypes()).toContain('test.added');
    expect(added.data.parse({ n: 1, extra: true })).toEqual({ n: 1 });
  });

  it('refuses a type declared twice', () => {
    defineActivity('test.once', z.object({}));
    expect(() => defineActivity('test.once', z.object({}))).toThrow(/defined twice/);
  });

  it('finds a family member by its family, and nothing for an unknown type', () => {
    expect(activityDefinition('listener.queue_full')).toBe(listenerReported);
    expect(activityDefinition('nothing.here')).toBeUndefined();
    expect(activityDefinition('nodot')).toBeUndefined();
  });

  it('narrows an entry by its definition, families by prefix', () => {
    const message = entry('message.created', { message: { body: 'hi' } });
    expect(isActivity(message, messageCreated)).toBe(true);
    expect(isActivity(message, listenerReported)).toBe(false);
    expect(isActivity(entry('listener.queue_full', {}), listenerReported)).toBe(true);
    expect(isActivity(entry('listeners.x', {}), listenerReported)).toBe(false);
  });
});
