/**
 * `gantry context set|get|list|delete|upload|download`: the workspace's shared entries and files.
 * Files stream from disk to the hub and back; neither side holds one whole in memory. A key is sent
 * as one path segment (`encodeURIComponent`, so a `/` in it travels as `%2F`).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import * as z from 'zod';
import {
  contextEntrySchema,
  contextKeySchema,
  errorBodySchema,
  GantryError,
  type ErrorCode,
} from '@gantry/protocol';
import { HubClient } from '../client.ts';
import type { HubOptions } from '../credentials.ts';
import { ExitError, exitCodes, printJson, printLine, table } from '../output.ts';

type Json = { json?: boolean };

export async function set(key: string, value: string, options: HubOptions & Json): Promise<void> {
  const entry = await HubClient.from(options).request('PUT', entryPath(key), contextEntrySchema, { value });
  if (options.json) return printJson(entry);
  printLine(`Set ${entry.key} (${formatBytes(entry.size)}).`);
}

export async function get(key: string, options: HubOptions & Json): Promise<void> {
  const entry = await HubClient.from(options).request('GET', entryPath(key), contextEntrySchema);
  if (options.json) return printJson(entry);
  if (entry.kind === 'file')
    throw new ExitError(
      exitCodes.failure,
      `${entry.key} is a file (${entry.contentType}, ${formatBytes(entry.size)}): download it with \`gantry context download ${entry.key} -o PATH\``,
    );
  process.stdout.write(entry.value?.endsWith('\n') ? entry.value : `${entry.value ?? ''}\n`);
}

export async function list(options: HubOptions & Json & { prefix?: string; limit?: string }): Promise<void> {
  const query = new URLSearchParams();
  if (options.prefix) query.set('prefix', options.prefix);
  if (options.limit) query.set('limit', options.limit);
  const entries = await HubClient.from(options).request(
    'GET',
    `/v1/context${query.size > 0 ? `?${query}` : ''}`,
    z.array(contextEntrySchema),
  );
  if (options.json) return printJson(entries);
  if (entries.length === 0)
    return printLine(options.prefix ? `No context entries under ${options.prefix}.` : 'No context entries.');
  printLine(
    table([
      ['KEY', 'KIND', 'SIZE', 'TYPE', 'UPDATED', 'BY'],
      ...entries.map((e) => [
        e.key,
        e.kind,
        formatBytes(e.size),
        e.contentType,
        e.updatedAt.slice(0, 19).replace('T', ' '),
        e.updatedBy,
      ]),
    ]),
  );
}

export async function remove(key: string, options: HubOptions & Json): Promise<void> {
  const entry = await HubClient.from(options).request('DELETE', entryPath(key), contextEntrySchema);
  if (options.json) return printJson(entry);
  printLine(`Deleted ${entry.key}.`);
}

export async function upload(
  file: string,
  options: HubOptions & Json & { key?: string; contentType?: string },
): Promise<void> {
  const info = await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'ENOENT'
      ? new GantryError('not_found', `no file ${file}`)
      : new GantryError('invalid_request', `cannot read ${file}: ${err.code ?? err.message}`);
  });
  if (!info.isFile()) throw new GantryError('invalid_request', `${file} is not a regular file`);
  const key = options.key ?? basename(file);
  if (!contextKeySchema.safeParse(key).success)
    throw new GantryError(
      'invalid_request',
      `'${key}' is not a valid context key (letters, digits and . _ : @ / - only, at most 200): pass --key KEY`,
    );
  const hash = createHash('sha256');
  const source = createReadStream(file).pipe(hashing(hash));
  const response = await send(options, `${entryPath(key)}/file`, {
    method: 'PUT',
    headers: {
      'content-type': options.contentType ?? guessContentType(file),
      // Lets the hub refuse a file over its limit before a byte is sent.
      'content-length': String(info.size),
    },
    body: Readable.toWeb(source) as ReadableStream<Uint8Array>,
    duplex: 'half',
  } as RequestInit);
  const entry = contextEntrySchema.parse(await response.json());
  if (entry.sha256 !== hash.digest('hex'))
    throw new GantryError(
      'internal',
      `the hub stored ${key} with another checksum than the file's: upload it again`,
    );
  if (options.json) return printJson(entry);
  printLine(
    `Uploaded ${file} as ${entry.key} (${entry.contentType}, ${formatBytes(entry.size)}, sha256 ${entry.sha256}).`,
  );
}

export async function download(key: string, options: HubOptions & Json & { output?: string }): Promise<void> {
  if (options.json && !options.output)
    throw new GantryError(
      'invalid_request',
      '--json needs -o PATH (without it the file goes to standard output)',
    );
  const target = options.output ? await targetPath(options.output, key) : undefined;
  const response = await send(options, `${entryPath(key)}/file`, { method: 'GET' });
  const expected = response.headers.get('x-content-sha256');
  const hash = createHash('sha256');
  const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  if (!target) {
    await pipeline(body, hashing(hash), process.stdout, { end: false }).catch((err: unknown) => {
      throw new GantryError('unavailable', `downloading ${key} failed: ${(err as Error).message}`);
    });
    if (expected && hash.digest('hex') !== expected)
      throw new GantryError('internal', `${key} arrived damaged (checksum mismatch): download it again`);
    return;
  }
  // Written beside the target and renamed into place: a reader never sees half a file.
  const partial = join(dirname(target), `.${basename(target)}.${process.pid}.part`);
  try {
    await pipeline(body, hashing(hash), createWriteStream(partial, { flags: 'wx' }));
    const sha256 = hash.digest('hex');
    if (expected && sha256 !== expected)
      throw new GantryError('internal', `${key} arrived damaged (checksum mismatch): download it again`);
    await rename(partial, target);
    const size = (await stat(target)).size;
    const contentType = response.headers.get('content-type') ?? 'application/octet-stream';
    if (options.json) return printJson({ key, path: target, size, contentType, sha256 });
    printLine(`Downloaded ${key} to ${target} (${formatBytes(size)}).`);
  } catch (err) {
    await unlink(partial).catch(() => undefined);
    if (err instanceof GantryError) throw err;
    throw new GantryError('unavailable', `downloading ${key} failed: ${(err as Error).message}`);
  }
}

function entryPath(key: string): string {
  return `/v1/context/${encodeURIComponent(key)}`;
}

/** An existing folder receives the key's base name; any other path is the file itself. */
async function targetPath(output: string, key: string): Promise<string> {
  const info = await stat(output).catch(() => undefined);
  return info?.isDirectory() ? join(output, basename(key)) : output;
}

function hashing(hash: Hash): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
}

/** A raw request to the hub (streamed bodies), with the hub client's credential and errors. */
async function send(options: HubOptions, path: string, init: RequestInit): Promise<Response> {
  const { hub } = HubClient.from(options);
  const headers = new Headers(init.headers);
  if (hub.token) headers.set('authorization', `Bearer ${hub.token}`);
  let response: Response;
  try {
    response = await fetch(`${hub.url}${path}`, { ...init, headers });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new GantryError('unavailable', `cannot reach the hub at ${hub.url} (${cause})`);
  }
  if (response.ok) return response;
  const body = errorBodySchema.safeParse(await response.json().catch(() => undefined));
  if (!body.success) throw new GantryError('internal', `the hub answered HTTP ${response.status}`);
  const { code, message } = body.data.error;
  throw new GantryError(
    code as ErrorCode,
    code === 'unauthorized'
      ? `${message}: log in with \`gantry login\` or pass --token / GANTRY_TOKEN`
      : message,
  );
}

const contentTypes: Record<string, string> = {
  '.txt': 'text/plain',
  '.log': 'text/plain',
  '.md': 'text/markdown',
  '.csv': 'text/csv',
  '.html': 'text/html',
  '.css': 'text/css',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.ts': 'text/x-typescript',
  '.py': 'text/x-python',
  '.sh': 'text/x-shellscript',
  '.diff': 'text/x-diff',
  '.patch': 'text/x-diff',
  '.json': 'application/json',
  '.xml': 'application/xml',
  '.yaml': 'application/yaml',
  '.yml': 'application/yaml',
  '.toml': 'application/toml',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.tgz': 'application/gzip',
  '.tar': 'application/x-tar',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
};

export function guessContentType(file: string): string {
  return contentTypes[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}
