// The event benches' follower (bench/lib.mjs): `sseReader` reads SSE as eventsource-parser does,
// and `followSeq` counts a `seq 1 N` run's events and notices one lost, repeated or changed.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createParser } from 'eventsource-parser';
import { afterAll, describe, expect, it } from 'vitest';

type Message = [event: string, data: string, id: string | undefined];
interface Lib {
  sseReader(onMessage: (...message: Message) => void): (text: string) => void;
  hubClient(
    url: string,
    token: string,
  ): { followSeq(id: string): Promise<{ final?: { state: string }; count: number; ordered: boolean }> };
}
// A specifier the compiler does not resolve: the benches are plain JavaScript.
const libPath = '../bench/lib.mjs';
const lib = (await import(libPath)) as Lib;

/** A small deterministic random source, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('sseReader', () => {
  it('reads what eventsource-parser reads, however the text is cut', () => {
    const next = random(7);
    const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)] as T;
    for (let round = 0; round < 2000; round++) {
      let text = '';
      for (let k = 0; k < 6; k++) {
        const newline = pick(['\n', '\r\n', '\r']);
        const lines = Array.from({ length: 1 + Math.floor(next() * 4) }, () =>
          pick(
            [
              `id: 1:${k}`,
              `id:${k}`,
              'event: event',
              'event:end',
              `data: {"a":${k}}`,
              'data:x y',
              'data',
            ].concat(['data: ', ': keep-alive', 'retry: 5', 'foo: bar', 'event', 'id']),
          ),
        );
        text += lines.join(newline) + newline + newline;
      }
      const expected: Message[] = [];
      const parser = createParser({ onEvent: (m) => expected.push([m.event ?? 'message', m.data, m.id]) });
      const seen: Message[] = [];
      const feed = lib.sseReader((...message) => seen.push(message));
      for (let at = 0; at < text.length;) {
        const n = 1 + Math.floor(next() * 7);
        parser.feed(text.slice(at, at + n));
        feed(text.slice(at, at + n));
        at += n;
      }
      expect(seen, JSON.stringify(text)).toEqual(expected);
    }
  });
});

describe('followSeq', () => {
  const lines = 20_000;
  /** The hub's SSE for `seq 1 N`: `wrong` changes that seq's text, `drop` leaves that event out. */
  function stream({ wrong = 0, drop = 0 } = {}): string {
    let text = 'event: state\ndata: {"state":"running"}\n\n: keep-alive\n\n';
    for (let n = 1; n <= lines; n++) {
      if (n === drop) continue;
      const ts = '2026-12-06T20:09:50.123Z';
      text += `id: 1:${n}\nevent: event\ndata: {"attempt":1,"seq":${n},"type":"output","ts":"${ts}","data":{"text":"${n === wrong ? n + 1 : n}"}}\n\n`;
      if (n % 7777 === 0) text += ': keep-alive\n\n';
    }
    return `${text}event: end\ndata: {"state":"succeeded"}\n\n`;
  }
  let body = '';
  const next = random(11);
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const bytes = Buffer.from(body);
    // Cut anywhere, a blank line included.
    for (let at = 0; at < bytes.length;) {
      const n = 1 + Math.floor(next() * 3000);
      res.write(bytes.subarray(at, at + n));
      at += n;
    }
    res.end();
  });
  const url = new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('counts every event in order and returns the end', async () => {
    body = stream();
    const { followSeq } = lib.hubClient(await url, 'token');
    expect(await followSeq('asg_1')).toEqual({ final: { state: 'succeeded' }, count: lines, ordered: true });
  });

  it('notices an event whose text is not its seq, and one left out', async () => {
    const { followSeq } = lib.hubClient(await url, 'token');
    body = stream({ wrong: 777 });
    expect(await followSeq('asg_1')).toMatchObject({ count: lines, ordered: false });
    body = stream({ drop: 999 });
    expect(await followSeq('asg_1')).toMatchObject({ count: lines - 1, ordered: false });
  });
});
