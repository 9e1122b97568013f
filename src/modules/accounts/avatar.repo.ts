import { and, count, eq, gte, inArray, lt, min } from 'drizzle-orm';
import type { DbOrTx } from '../../platform/db/types.ts';
import { avatarJobs } from './accounts.tables.ts';

export type AvatarJob = typeof avatarJobs.$inferSelect;
export type AvatarGeneratorKind = AvatarJob['generator'];

const IN_PROGRESS = ['queued', 'running'] as const;

export async function insertAvatarJob(
  db: DbOrTx,
  job: { userId: string; prompt: string; generator: AvatarGeneratorKind; createdAt: Date },
): Promise<AvatarJob> {
  const [row] = await db.insert(avatarJobs).values(job).returning();
  return row!;
}

/** Only the owner's: another user's id reads as missing. */
export async function findAvatarJob(db: DbOrTx, userId: string, id: string): Promise<AvatarJob | undefined> {
  const [row] = await db
    .select()
    .from(avatarJobs)
    .where(and(eq(avatarJobs.id, id), eq(avatarJobs.userId, userId)));
  return row;
}

export async function findAvatarJobById(db: DbOrTx, id: string): Promise<AvatarJob | undefined> {
  const [row] = await db.select().from(avatarJobs).where(eq(avatarJobs.id, id));
  return row;
}

export async function countInProgressAvatarJobs(db: DbOrTx, userId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(avatarJobs)
    .where(and(eq(avatarJobs.userId, userId), inArray(avatarJobs.status, IN_PROGRESS)));
  return row?.n ?? 0;
}

/** Jobs created since `since` (any outcome: a failed attempt still cost a vendor call). */
export async function countAvatarJobsSince(
  db: DbOrTx,
  userId: string,
  since: Date,
): Promise<{ count: number; oldest: Date | null }> {
  const [row] = await db
    .select({ n: count(), oldest: min(avatarJobs.createdAt) })
    .from(avatarJobs)
    .where(and(eq(avatarJobs.userId, userId), gte(avatarJobs.createdAt, since)));
  return { count: row?.n ?? 0, oldest: row?.oldest ?? null };
}

/** queued → running. Undefined when the job is already finished (a redelivery, or timed out). */
export async function markAvatarJobRunning(
  db: DbOrTx,
  id: string,
  generator: AvatarGeneratorKind,
): Promise<AvatarJob | undefined> {
  const [row] = await db
    .update(avatarJobs)
    .set({ status: 'running', generator })
    .where(and(eq(avatarJobs.id, id), inArray(avatarJobs.status, IN_PROGRESS)))
    .returning();
  return row;
}

/**
 * Finishes a job that is still in progress; undefined when it already had a final status, so each
 * job reaches exactly one outcome and announces it once.
 */
export async function finishAvatarJob(
  db: DbOrTx,
  id: string,
  outcome:
    | { status: 'succeeded'; imageKey: string; finishedAt: Date }
    | { status: 'failed'; error: string; finishedAt: Date },
): Promise<AvatarJob | undefined> {
  const [row] = await db
    .update(avatarJobs)
    .set(
      outcome.status === 'succeeded'
        ? { status: 'succeeded', imageKey: outcome.imageKey, error: null, finishedAt: outcome.finishedAt }
        : { status: 'failed', error: outcome.error, finishedAt: outcome.finishedAt },
    )
    .where(and(eq(avatarJobs.id, id), inArray(avatarJobs.status, IN_PROGRESS)))
    .returning();
  return row;
}

/** Fails this user's jobs still in progress that were created before `before` (a worker that died). */
export async function failStaleAvatarJobs(
  db: DbOrTx,
  userId: string,
  before: Date,
  outcome: { error: string; finishedAt: Date },
): Promise<AvatarJob[]> {
  return db
    .update(avatarJobs)
    .set({ status: 'failed', error: outcome.error, finishedAt: outcome.finishedAt })
    .where(
      and(
        eq(avatarJobs.userId, userId),
        inArray(avatarJobs.status, IN_PROGRESS),
        lt(avatarJobs.createdAt, before),
      ),
    )
    .returning();
}
