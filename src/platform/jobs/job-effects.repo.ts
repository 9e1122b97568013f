import { and, eq, inArray, sql } from 'drizzle-orm';
import { jobEffects } from '../db/platform.tables.ts';
import type { DbOrTx } from '../db/types.ts';

export interface EffectRecord {
  readonly dedupeKey: string;
  readonly jobId: string;
}

/** Keys whose effect has already been recorded for this queue. */
export async function findDoneKeys(db: DbOrTx, queue: string, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await db
    .select({ dedupeKey: jobEffects.dedupeKey })
    .from(jobEffects)
    .where(and(eq(jobEffects.queue, queue), inArray(jobEffects.dedupeKey, [...keys])));
  return new Set(rows.map((row) => row.dedupeKey));
}

/** Inserts the records; returns the keys that were new (a key already present was done before). */
export async function recordEffects(
  db: DbOrTx,
  queue: string,
  records: readonly EffectRecord[],
): Promise<Set<string>> {
  if (records.length === 0) return new Set();
  const rows = await db
    .insert(jobEffects)
    .values(records.map((record) => ({ queue, dedupeKey: record.dedupeKey, jobId: record.jobId })))
    .onConflictDoNothing()
    .returning({ dedupeKey: jobEffects.dedupeKey });
  return new Set(rows.map((row) => row.dedupeKey));
}

export async function pruneEffects(db: DbOrTx, olderThan: Date): Promise<number> {
  const rows = await db
    .delete(jobEffects)
    .where(sql`${jobEffects.completedAt} < ${olderThan.toISOString()}`)
    .returning({ queue: jobEffects.queue });
  return rows.length;
}
