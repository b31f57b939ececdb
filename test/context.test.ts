// `gantry context` through a real hub: values, files streamed in chunks and back byte for byte,
// atomic replacement, the size limits (set small here with GANTRY_CONTEXT_MAX_*), and the activity.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextEntrySchema, type ActivityEvent, type ContextEntry } from '@gantry/protocol';
import { Sandbox } from './harness.ts';
import { createAgent, startHub, type HubReady } from './fixtures.ts';

const maxValueBytes = 4096;
const maxFileBytes = 6_000_000;
const chunkBytes = 256 * 1024;

describe('context', () => {
  const box = new Sandbox();
  let hub: HubReady;
  let bob: { id: string; key: string };
  let db: Database.Database;

  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
  const file = (name: string, bytes: Buffer | string) => {
    const path = join(box.home, name);
    writeFileSync(path, bytes);
    return path;
  };
  const activity = async (): Promise<ActivityEvent[]> => {
    const res = await fetch(`${hub.url}/v1/events?since=0`, {
      headers: { authorization: `Bearer ${hub.ownerToken}` },
    });
    return (await res.json()) as ActivityEvent[];
  };
  /** The chunk rows the hub keeps for a key: (upload, n, size). */
  const chunks = (key: string) =>
    db
      .prepare('SELECT upload_id, n, length(bytes) AS size FROM context_chunks WHERE key = ? ORDER BY n')
      .all(key) as { upload_id: string; n: number; size: number }[];

  beforeAll(async () => {
    // Read by the hub at start (this file runs in its own process).
    process.env.GANTRY_CONTEXT_MAX_VALUE_BYTES = String(maxValueBytes);
    process.env.GANTRY_CONTEXT_MAX_FILE_BYTES = String(maxFileBytes);
    ({ ready: hub } = await startHub(box));
    bob = await createAgent(box, 'bob');
    db = new Database(join(box.home, 'data', 'hub.db'), { readonly: true });
  });
  afterAll(async () => {
    db?.close();
    await box.cleanup();
  });

  it('sets, gets, lists and deletes values, with slashes in keys', async () => {
    const set = await box.run(['context', 'set', 'notes/today', 'ship the release']);
    expect(set).toMatchObject({ code: 0, stdout: 'Set notes/today (16 B).\n' });
    const get = await box.run(['context', 'get', 'notes/today']);
    expect(get).toMatchObject({ code: 0, stdout: 'ship the release\n' });
    const entry = contextEntrySchema.parse(await box.json(['context', 'get', 'notes/today']));
    expect(entry).toMatchObject({
      key: 'notes/today',
      kind: 'value',
      value: 'ship the release',
      size: 16,
      sha256: sha256(Buffer.from('ship the release')),
      updatedBy: 'owner',
    });

    // An agent writes as itself.
    await box.json(['context', 'set', 'notes/bob', 'from bob'], { GANTRY_TOKEN: bob.key });
    await box.json(['context', 'set', 'other', 'x']);
    const listed = await box.json<ContextEntry[]>(['context', 'list', '--prefix', 'notes/']);
    expect(listed.map((e) => [e.key, e.updatedBy])).toEqual([
      ['notes/bob', 'bob'],
      ['notes/today', 'owner'],
    ]);
    expect(listed.every((e) => e.value === undefined)).toBe(true);
    const table = await box.run(['context', 'list']);
    expect(table.stdout.split('\n')[0]).toMatch(/^KEY\s+KIND\s+SIZE\s+TYPE\s+UPDATED\s+BY$/);
    expect(table.stdout).toContain('notes/today');

    const deleted = await box.run(['context', 'delete', 'notes/today']);
    expect(deleted).toMatchObject({ code: 0, stdout: 'Deleted notes/today.\n' });
    for (const args of [
      ['context', 'get', 'notes/today'],
      ['context', 'delete', 'notes/today'],
      ['context', 'download', 'notes/today'],
    ]) {
      const missing = await box.run(args);
      expect(missing.code).toBe(3);
      expect(missing.stderr).toBe('gantry: no context entry notes/today (see `gantry context list`)\n');
    }

    const log = (await activity()).filter((e) => e.subject === 'notes/today');
    expect(log.map((e) => [e.type, e.actor?.name])).toEqual([
      ['context.set', 'owner'],
      ['context.deleted', 'owner'],
    ]);
    expect(log[0]?.data).toMatchObject({ entry: { key: 'notes/today', kind: 'value', size: 16 } });
    expect(log[1]?.data).toEqual({ key: 'notes/today', kind: 'value' });

    const badKey = await box.run(['context', 'set', 'no spaces', 'x']);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toContain('letters, digits and . _ : @ / - only');
  });

  it('refuses a value over the limit with a clear message', async () => {
    const over = await box.run(['context', 'set', 'big', 'v'.repeat(maxValueBytes + 1)]);
    expect(over.code).toBe(1);
    expect(over.stderr).toBe(
      `gantry: the value is ${maxValueBytes + 1} bytes; a context value is at most ${maxValueBytes} bytes (store larger content as a file: gantry context upload)\n`,
    );
    // Far past it, the JSON body is refused before it is read.
    const res = await fetch(`${hub.url}/v1/context/big`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${hub.ownerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: 'v'.repeat(maxValueBytes * 10) }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /^the value is more than 4096 bytes; a context value is at most 4096 bytes/,
    );
    expect((await box.run(['context', 'get', 'big'])).code).toBe(3);
  });

  it('streams a 5 MB file up in chunks and back byte for byte, and replaces it atomically', async () => {
    const bytes = randomBytes(5 * 1024 * 1024 + 123);
    const path = file('build.tar.gz', bytes);
    const entry = contextEntrySchema.parse(
      await box.json(['context', 'upload', path, '--key', 'builds/latest']),
    );
    expect(entry).toMatchObject({
      key: 'builds/latest',
      kind: 'file',
      contentType: 'application/gzip',
      size: bytes.length,
      sha256: sha256(bytes),
    });
    expect(entry.value).toBeUndefined();

    // Stored as 256 KiB rows, not one blob: neither the hub nor the store holds the file at once.
    const rows = chunks('builds/latest');
    expect(rows.length).toBe(Math.ceil(bytes.length / chunkBytes));
    expect(rows.map((r) => r.n)).toEqual(rows.map((_, i) => i));
    expect(rows.slice(0, -1).every((r) => r.size === chunkBytes)).toBe(true);
    expect(rows.reduce((sum, r) => sum + r.size, 0)).toBe(bytes.length);
    const firstUpload = rows[0]?.upload_id;

    const out = join(box.home, 'out.bin');
    const down = await box.json<{ path: string; size: number; sha256: string }>([
      'context',
      'download',
      'builds/latest',
      '-o',
      out,
    ]);
    expect(down).toMatchObject({ path: out, size: bytes.length, sha256: sha256(bytes) });
    expect(sha256(readFileSync(out))).toBe(sha256(bytes));

    const raw = await fetch(`${hub.url}/v1/context/${encodeURIComponent('builds/latest')}/file`, {
      headers: { authorization: `Bearer ${hub.ownerToken}` },
    });
    expect(raw.headers.get('content-type')).toBe('application/gzip');
    expect(raw.headers.get('content-length')).toBe(String(bytes.length));
    expect(sha256(Buffer.from(await raw.arrayBuffer()))).toBe(sha256(bytes));

    // `get` on a file says to download it.
    const get = await box.run(['context', 'get', 'builds/latest']);
    expect(get.code).toBe(1);
    expect(get.stderr).toContain('builds/latest is a file (application/gzip, 5.0 MiB): download it with');

    // A new upload replaces the old one whole; the old chunks go.
    const smaller = randomBytes(1000);
    await box.json(['context', 'upload', file('notes.md', smaller), '--key', 'builds/latest']);
    const after = chunks('builds/latest');
    expect(after.length).toBe(1);
    expect(after[0]?.upload_id).not.toBe(firstUpload);
    const again = join(box.home, 'again.md');
    await box.json(['context', 'download', 'builds/latest', '-o', again]);
    expect(readFileSync(again).equals(smaller)).toBe(true);
    expect(contextEntrySchema.parse(await box.json(['context', 'get', 'builds/latest'])).contentType).toBe(
      'text/markdown',
    );

    // Uploaded without --key: the file's base name.
    const named = contextEntrySchema.parse(
      await box.json(['context', 'upload', file('plan.txt', 'the plan')]),
    );
    expect(named).toMatchObject({ key: 'plan.txt', contentType: 'text/plain', size: 8 });
    // To standard output without -o.
    expect(await box.run(['context', 'download', 'plan.txt'])).toMatchObject({ code: 0, stdout: 'the plan' });

    const deleted = await box.run(['context', 'delete', 'builds/latest']);
    expect(deleted.code).toBe(0);
    expect(chunks('builds/latest')).toEqual([]);
    const log = (await activity()).filter((e) => e.subject === 'builds/latest').map((e) => e.type);
    expect(log).toEqual(['context.set', 'context.set', 'context.deleted']);
  });

  it('serves an uploaded file only as a download, never as a page on the hub origin', async () => {
    const page = '<html><script>fetch("/v1/web/session")</script></html>';
    const up = await fetch(`${hub.url}/v1/context/${encodeURIComponent('reports/x.html')}/file`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${hub.ownerToken}`, 'content-type': 'text/html' },
      body: page,
    });
    expect(up.status).toBe(200);
    const res = await fetch(`${hub.url}/v1/context/${encodeURIComponent('reports/x.html')}/file`, {
      headers: { authorization: `Bearer ${hub.ownerToken}` },
    });
    expect(await res.text()).toBe(page);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="x.html"');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain('sandbox');
  });

  it('refuses a file over the limit, with or without a declared length, and keeps nothing of it', async () => {
    const path = file('huge.bin', Buffer.alloc(maxFileBytes + 1));
    const cli = await box.run(['context', 'upload', path]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toBe(
      `gantry: the file is ${maxFileBytes + 1} bytes; a context file is at most ${maxFileBytes} bytes on this hub (GANTRY_CONTEXT_MAX_FILE_BYTES)\n`,
    );

    // Sent in chunks with no length: refused as soon as the limit is passed.
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > maxFileBytes * 2) return controller.close();
        sent += chunkBytes;
        controller.enqueue(new Uint8Array(chunkBytes));
      },
    });
    const res = await fetch(`${hub.url}/v1/context/huge.bin/file`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${hub.ownerToken}`, 'content-type': 'application/octet-stream' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      `the file is more than ${maxFileBytes} bytes; a context file is at most ${maxFileBytes} bytes on this hub (GANTRY_CONTEXT_MAX_FILE_BYTES)`,
    );
    expect(chunks('huge.bin')).toEqual([]);
    expect((await box.run(['context', 'get', 'huge.bin'])).code).toBe(3);
  });

  it('says clearly what is wrong with a file to upload', async () => {
    const missing = await box.run(['context', 'upload', join(box.home, 'nope.txt')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toBe(`gantry: no file ${join(box.home, 'nope.txt')}\n`);
    const folder = await box.run(['context', 'upload', box.home]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain('is not a regular file');
    const badName = await box.run(['context', 'upload', file('my notes.txt', 'x')]);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain("'my notes.txt' is not a valid context key");
  });
});
