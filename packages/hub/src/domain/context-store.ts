/**
 * Workspace context (DESIGN §2): key/value entries and file artifacts. A file's bytes go to
 * `context_chunks` as they arrive, under a fresh upload id, so neither an upload nor a download is
 * ever held whole in memory; the entry then switches to the new upload in one transaction with its
 * `context.set` entry, and only after that are the old chunks removed.
 */
import { createHash } from 'node:crypto';
import {
  GantryError,
  maxContextFileBytes,
  maxContextValueBytes,
  type ContextEntry,
  type Party,
  contextDeleted,
  contextSet,
} from '@gantry/protocol';
import type { Actor } from './actor.ts';
import { newId } from '../ids.ts';
import type { ContextEntryTable } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import type { Activity, Tx } from './activity.ts';
import { iso } from './views.ts';

/** Bytes per `context_chunks` row: what an upload or a download holds at once. */
export const contextChunkBytes = 256 * 1024;

export interface ContextLimits {
  maxValueBytes: number;
  maxFileBytes: number;
}

/**
 * The limits: explicit settings, then `GANTRY_CONTEXT_MAX_VALUE_BYTES` and
 * `GANTRY_CONTEXT_MAX_FILE_BYTES`, then the protocol's defaults.
 */
export function contextLimits(
  settings: Partial<ContextLimits> = {},
  env: NodeJS.ProcessEnv = process.env,
): ContextLimits {
  const pick = (value: number | undefined, name: string, fallback: number) => {
    const raw = value ?? env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n <= 0)
      throw new GantryError('invalid_request', `${name} must be a positive number of bytes`);
    return n;
  };
  return {
    maxValueBytes: pick(settings.maxValueBytes, 'GANTRY_CONTEXT_MAX_VALUE_BYTES', maxContextValueBytes),
    maxFileBytes: pick(settings.maxFileBytes, 'GANTRY_CONTEXT_MAX_FILE_BYTES', maxContextFileBytes),
  };
}

export interface UploadInput {
  /** The bytes, asked for only once the declared size is known to fit. */
  body: () => ReadableStream<Uint8Array> | null;
  contentType: string;
  /** The request's Content-Length, when it sent one: too large is refused before reading. */
  declaredSize?: number;
}

export class ContextStore {
  constructor(
    private readonly store: Store,
    private readonly activity: Activity,
    readonly limits: ContextLimits,
  ) {}

  async set(caller: Actor, key: string, value: string): Promise<ContextEntry> {
    const actor = actorOf(caller);
    const size = Buffer.byteLength(value);
    if (size > this.limits.maxValueBytes) throw this.valueTooLarge(size);
    const row: ContextEntryTable = {
      workspace_id: caller.workspaceId,
      key,
      kind: 'value',
      value,
      content_type: 'text/plain; charset=utf-8',
      size,
      sha256: createHash('sha256').update(value).digest('hex'),
      updated_by: actor.name,
      updated_at: Date.now(),
      upload_id: null,
    };
    return this.put(actor, row);
  }

  /** Streams a request body into chunks, then makes it the key's file. */
  async upload(caller: Actor, key: string, input: UploadInput): Promise<ContextEntry> {
    const actor = actorOf(caller);
    const max = this.limits.maxFileBytes;
    if (input.declaredSize !== undefined && input.declaredSize > max)
      throw this.fileTooLarge(`${input.declaredSize} bytes`);
    const uploadId = newId('upl');
    const hash = createHash('sha256');
    let size = 0;
    let n = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const bytes = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      await this.store.context.insertChunk({
        workspace_id: caller.workspaceId,
        key,
        upload_id: uploadId,
        n: n++,
        bytes,
      });
    };
    const reader = input.body()?.getReader();
    try {
      for (;;) {
        const next = await reader?.read();
        if (!next || next.done) break;
        size += next.value.byteLength;
        if (size > max) throw this.fileTooLarge(`more than ${max} bytes`);
        hash.update(next.value);
        // Slices of one read may straddle a chunk boundary: rows are exactly `contextChunkBytes`.
        let rest = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
        while (rest.byteLength > 0) {
          const take = Math.min(rest.byteLength, contextChunkBytes - pendingBytes);
          pending.push(Buffer.from(rest.subarray(0, take)));
          pendingBytes += take;
          rest = rest.subarray(take);
          if (pendingBytes === contextChunkBytes) await flush();
        }
      }
      await flush();
      const row: ContextEntryTable = {
        workspace_id: caller.workspaceId,
        key,
        kind: 'file',
        value: null,
        content_type: input.contentType,
        size,
        sha256: hash.digest('hex'),
        updated_by: actor.name,
        updated_at: Date.now(),
        upload_id: uploadId,
      };
      return await this.put(actor, row);
    } catch (err) {
      await reader?.cancel().catch(() => undefined);
      await this.store.context.dropChunks(uploadId);
      throw err;
    }
  }

  /** The entry, with its value for a value entry. */
  async get(caller: Actor, key: string): Promise<ContextEntry> {
    actorOf(caller);
    return entryView(await this.row(caller.workspaceId, key), true);
  }

  /**
   * The entry and a stream of its bytes (a value entry's value, or a file's chunks read one at a
   * time). The stream fails if the file is replaced or deleted while it is read.
   */
  async open(caller: Actor, key: string): Promise<{ entry: ContextEntry; body: ReadableStream<Uint8Array> }> {
    actorOf(caller);
    const row = await this.row(caller.workspaceId, key);
    const entry = entryView(row, false);
    if (row.kind !== 'file' || row.upload_id === null) {
      const bytes = Buffer.from(row.value ?? '');
      return { entry, body: new Blob([bytes]).stream() };
    }
    const uploadId = row.upload_id;
    let n = 0;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (sent >= row.size) return controller.close();
        const bytes = await this.store.context.chunk(uploadId, n++);
        if (!bytes) {
          controller.error(new GantryError('conflict', `context file ${key} changed while it was read`));
          return;
        }
        sent += bytes.byteLength;
        controller.enqueue(new Uint8Array(bytes));
      },
    });
    return { entry, body };
  }

  /** Entries whose key starts with `prefix`, by key; files without their bytes, values without their value. */
  async list(caller: Actor, options: { prefix?: string; limit?: number } = {}): Promise<ContextEntry[]> {
    actorOf(caller);
    const prefix = options.prefix ?? '';
    const rows = await this.store.context.list(caller.workspaceId, prefix, options.limit ?? 1000);
    return rows.map((row) => entryView(row, false));
  }

  async delete(caller: Actor, key: string): Promise<ContextEntry> {
    const actor = actorOf(caller);
    const { row, entry } = await this.store.transaction(async (tx) => {
      const row = await this.row(caller.workspaceId, key, tx);
      await tx.context.delete(caller.workspaceId, key);
      const entry = await this.activity.record(tx, contextDeleted, {
        workspaceId: caller.workspaceId,
        actor,
        subject: key,
        data: { key, kind: row.kind as ContextEntry['kind'] },
      });
      return { row, entry };
    });
    this.activity.published(entry);
    if (row.upload_id) await this.store.context.dropChunks(row.upload_id);
    return entryView(row, false);
  }

  /** Makes `row` the key's entry with its `context.set` entry, then drops the chunks it replaced. */
  private async put(actor: Party, row: ContextEntryTable): Promise<ContextEntry> {
    const view = entryView(row, false);
    const { previous, entry } = await this.store.transaction(async (tx) => {
      const previous = await tx.context.put(row);
      const entry = await this.activity.record(
        tx,
        contextSet,
        {
          workspaceId: row.workspace_id,
          actor,
          subject: row.key,
          data: { entry: view, replaced: previous.replaced },
        },
        row.updated_at,
      );
      return { previous, entry };
    });
    this.activity.published(entry);
    if (previous.uploadId) await this.store.context.dropChunks(previous.uploadId);
    return view;
  }

  private async row(workspaceId: string, key: string, tx: Tx = this.store): Promise<ContextEntryTable> {
    const row = await tx.context.get(workspaceId, key);
    if (!row) throw new GantryError('not_found', `no context entry ${key} (see \`gantry context list\`)`);
    return row;
  }

  valueTooLarge(size: number | string): GantryError {
    return new GantryError(
      'payload_too_large',
      `the value is ${typeof size === 'number' ? `${size} bytes` : size}; a context value is at most ${this.limits.maxValueBytes} bytes (store larger content as a file: gantry context upload)`,
    );
  }

  private fileTooLarge(size: string): GantryError {
    return new GantryError(
      'payload_too_large',
      `the file is ${size}; a context file is at most ${this.limits.maxFileBytes} bytes on this hub (GANTRY_CONTEXT_MAX_FILE_BYTES)`,
    );
  }
}

function actorOf(caller: Actor): Party {
  if (caller.kind === 'gateway')
    throw new GantryError(
      'forbidden',
      'a gateway token cannot use context: use a user token or an agent key',
    );
  return { kind: caller.kind, id: caller.id, name: caller.name };
}

function entryView(row: ContextEntryTable, withValue: boolean): ContextEntry {
  return {
    key: row.key,
    kind: row.kind as ContextEntry['kind'],
    ...(withValue && row.kind === 'value' ? { value: row.value ?? '' } : {}),
    contentType: row.content_type,
    size: Number(row.size),
    sha256: row.sha256,
    updatedBy: row.updated_by,
    updatedAt: iso(row.updated_at) as string,
  };
}
