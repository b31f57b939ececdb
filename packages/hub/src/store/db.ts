/** What a repository queries through: the database, or one transaction on it. */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;
export type StoreKind = 'sqlite' | 'postgres';
