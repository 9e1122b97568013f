import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type * as schema from './schema.ts';

export type Schema = typeof schema;

/** The root database handle: a pg pool or PGlite behind Drizzle. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

/** An open transaction. Inside one, use it for every query: never the root `db`. */
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

/** What repositories take: the caller decides whether the work runs inside a transaction. */
export type DbOrTx = Db | Tx;

export type DatabaseKind = 'pglite' | 'postgres';
