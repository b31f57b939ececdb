import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  eventsFrame,
  fastEventsFrame,
  gatewayFrameSchema,
  jsonTooDeep,
  maxJsonDepth,
  parseEventsFrame,
} from '../src/index.ts';

const good = {
  t: 'events',
  assignmentId: 'asg_1',
  attempt: 1,
  events: [{ seq: 1, type: 'output', ts: '2026-01-01T00:00:00.000Z', data: { text: 'hi' } }],
};

/** Values near every edge of the rules: lengths, integers, types, extra and missing keys. */
const edgy = fc.oneof(
  fc.constantFrom('', 'x', 'a'.repeat(64), 'a'.repeat(65), 0, -1, 1, 1.5, 2 ** 53, 2 ** 53 - 1, null, true),
  fc.constantFrom([], {}, [1], { text: 'x' }, JSON.parse('{"__proto__":{"a":1}}') as unknown),
  fc.string({ maxLength: 70 }),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 2 }),
);

const event = fc.record(
  {
    seq: fc.oneof(fc.integer({ min: 1, max: 1e6 }), edgy),
    type: fc.oneof(fc.string({ minLength: 1, maxLength: 64 }), edgy),
    ts: fc.oneof(fc.string(), edgy),
    data: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })), edgy),
    extra: edgy,
  },
  { requiredKeys: [] },
);

const frame = fc.record(
  {
    t: fc.oneof(fc.constant('events'), fc.constant('events'), edgy),
    assignmentId: fc.oneof(fc.string({ minLength: 1, maxLength: 64 }), edgy),
    attempt: fc.oneof(fc.integer({ min: 1, max: 100 }), edgy),
    events: fc.oneof(
      fc.array(event, { minLength: 1, maxLength: 5 }),
      fc.array(event, { maxLength: 0 }),
      edgy,
    ),
    other: edgy,
  },
  { requiredKeys: [] },
);

/** What the fast path says must be what the schema says: accepted only if the schema accepts, with its result. */
function agrees(json: unknown): void {
  const fast = fastEventsFrame(json);
  const schema = eventsFrame.safeParse(json);
  if (fast === undefined) return;
  expect(schema.success).toBe(true);
  expect(fast).toStrictEqual(schema.data);
  expect(gatewayFrameSchema.parse(json)).toStrictEqual(fast);
}

describe('fastEventsFrame', () => {
  it('takes a plain events frame, as the schema returns it', () => {
    expect(fastEventsFrame(good)).toStrictEqual(eventsFrame.parse(good));
    const extra = { ...good, events: [{ ...good.events[0], more: 1 }] };
    expect(fastEventsFrame(extra)).toStrictEqual(eventsFrame.parse(extra));
    expect(fastEventsFrame(extra)?.events[0]).not.toHaveProperty('more');
  });

  it('leaves to the schema what it rejects', () => {
    const bad: unknown[] = [
      { ...good, t: 'result' },
      { ...good, extra: 1 },
      { ...good, assignmentId: '' },
      { ...good, assignmentId: 'a'.repeat(65) },
      { ...good, attempt: 0 },
      { ...good, attempt: 1.5 },
      { ...good, attempt: 2 ** 53 },
      { ...good, events: [] },
      { ...good, events: Array.from({ length: 1001 }, (_, i) => ({ ...good.events[0], seq: i + 1 })) },
      { ...good, events: [{ ...good.events[0], seq: 0 }] },
      { ...good, events: [{ ...good.events[0], type: '' }] },
      { ...good, events: [{ ...good.events[0], type: 'x'.repeat(65) }] },
      { ...good, events: [{ ...good.events[0], ts: 1 }] },
      { ...good, events: [{ ...good.events[0], data: [] }] },
      { ...good, events: [{ ...good.events[0], data: null }] },
      { ...good, events: [{ seq: 1, type: 'output', ts: 'x' }] },
      [good],
      null,
    ];
    for (const json of bad) {
      expect(fastEventsFrame(json)).toBeUndefined();
      expect(eventsFrame.safeParse(json).success).toBe(false);
    }
  });

  it('never accepts what the schema rejects, and returns what it returns (property)', () => {
    fc.assert(fc.property(frame, agrees), { numRuns: 5000 });
  });

  it('agrees on frames as a gateway sends them, through JSON (property)', () => {
    const sent = fc.record({
      t: fc.constant('events'),
      assignmentId: fc.string({ minLength: 1, maxLength: 64 }),
      attempt: fc.integer({ min: 1, max: 1000 }),
      events: fc.array(
        fc.record({
          seq: fc.integer({ min: 1, max: 1e9 }),
          type: fc.string({ minLength: 1, maxLength: 64 }),
          ts: fc.string(),
          data: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })),
        }),
        { minLength: 1, maxLength: 20 },
      ),
    });
    fc.assert(
      fc.property(sent, (f) => {
        const json: unknown = JSON.parse(JSON.stringify(f));
        const fast = fastEventsFrame(json);
        const schema = eventsFrame.safeParse(json);
        // A __proto__ key in data is the schema's call; everything else takes the fast path.
        if (!JSON.stringify(f).includes('"__proto__"')) expect(fast).toBeDefined();
        expect(parseEventsFrame(JSON.stringify(f))).toStrictEqual(fast);
        agrees(json);
        expect(schema.success).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

/** What `parseEventsFrame` takes must be what the nesting check, JSON.parse and `fastEventsFrame` take. */
function agreesOnText(text: string): void {
  const fast = parseEventsFrame(text);
  if (fast === undefined) return;
  expect(jsonTooDeep(text)).toBe(false);
  expect(fast).toStrictEqual(fastEventsFrame(JSON.parse(text)));
}

/** `levels` levels of nesting: `{"a":{"a":...{}}}`. */
const nested = (levels: number): unknown => (levels <= 1 ? {} : { a: nested(levels - 1) });

describe('parseEventsFrame', () => {
  it('takes a frame as a gateway writes it, as parsing and checking it would', () => {
    const text = JSON.stringify(good);
    expect(parseEventsFrame(text)).toStrictEqual(fastEventsFrame(JSON.parse(text)));
  });

  it('holds to the nesting limit, counted as on the text (frame, events and event are three levels)', () => {
    const frameWith = (event: Record<string, unknown>) => JSON.stringify({ ...good, events: [event] });
    const edge = frameWith({ ...good.events[0], data: nested(maxJsonDepth - 3) });
    expect(jsonTooDeep(edge)).toBe(false);
    expect(parseEventsFrame(edge)).toStrictEqual(fastEventsFrame(JSON.parse(edge)));
    const over = frameWith({ ...good.events[0], data: nested(maxJsonDepth - 2) });
    expect(jsonTooDeep(over)).toBe(true);
    expect(parseEventsFrame(over)).toBeUndefined();
    // A key the schema drops still counts, as it does on the text.
    const extra = frameWith({ ...good.events[0], more: [nested(maxJsonDepth - 3)] });
    expect(jsonTooDeep(extra)).toBe(true);
    expect(parseEventsFrame(extra)).toBeUndefined();
    const deep = `{"t":"events","assignmentId":"a","attempt":1,"events":[${'['.repeat(100_000)}${']'.repeat(100_000)}]}`;
    expect(parseEventsFrame(deep)).toBeUndefined();
  });

  it('leaves other frames, other spellings and broken text to the general way', () => {
    for (const text of [
      JSON.stringify({ ...good, t: 'result' }),
      JSON.stringify({ assignmentId: 'asg_1', t: 'events', attempt: 1, events: good.events }),
      ' {"t":"events"}',
      '{"t":"events",',
      '{"t":"events","assignmentId":"a","attempt":1,"events":[}',
    ])
      expect(parseEventsFrame(text)).toBeUndefined();
  });

  it('never takes what the general way refuses, and returns what it returns (property)', () => {
    fc.assert(
      fc.property(frame, fc.nat(40), (f, cut) => {
        const text = JSON.stringify(f) ?? '';
        agreesOnText(text);
        agreesOnText(text.slice(0, text.length - cut));
      }),
      { numRuns: 3000 },
    );
  });
});
