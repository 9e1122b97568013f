import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../platform/db/types.ts';
import { addresses, avatarJobs, sellerProfiles, sessions, userTokens } from './accounts.tables.ts';

/** Reads and erasures across a user's own rows, for staff tools and privacy (export, delete). */

export type Address = typeof addresses.$inferSelect;
export type AvatarJob = typeof avatarJobs.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;

export async function listUserSessions(db: DbOrTx, userId: string): Promise<SessionRow[]> {
  return db.select().from(sessions).where(eq(sessions.userId, userId)).orderBy(desc(sessions.createdAt));
}

export async function listOpenSessionIds(db: DbOrTx, userId: string): Promise<string[]> {
  const rows = await db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)));
  return rows.map((row) => row.id);
}

export async function listUserAddresses(db: DbOrTx, userId: string): Promise<Address[]> {
  return db.select().from(addresses).where(eq(addresses.userId, userId)).orderBy(addresses.createdAt);
}

export async function deleteUserAddresses(db: DbOrTx, userId: string): Promise<number> {
  const rows = await db.delete(addresses).where(eq(addresses.userId, userId)).returning({ id: addresses.id });
  return rows.length;
}

export async function listUserAvatarJobs(db: DbOrTx, userId: string): Promise<AvatarJob[]> {
  return db
    .select()
    .from(avatarJobs)
    .where(eq(avatarJobs.userId, userId))
    .orderBy(desc(avatarJobs.createdAt));
}

/** Deletes the user's avatar jobs (their prompts are personal text); returns the image keys they held. */
export async function deleteUserAvatarJobs(db: DbOrTx, userId: string): Promise<string[]> {
  const rows = await db
    .delete(avatarJobs)
    .where(eq(avatarJobs.userId, userId))
    .returning({ imageKey: avatarJobs.imageKey });
  return rows.flatMap((row) => (row.imageKey ? [row.imageKey] : []));
}

/** Pending verification and reset links die with the account. */
export async function deleteUserTokens(db: DbOrTx, userId: string): Promise<void> {
  await db.delete(userTokens).where(eq(userTokens.userId, userId));
}

/** Blanks the seller's personal text; the row (shop name, payout state) stays for order history. */
export async function blankSellerAbout(db: DbOrTx, userId: string): Promise<boolean> {
  const rows = await db
    .update(sellerProfiles)
    .set({ about: '', updatedAt: sql`now()` })
    .where(eq(sellerProfiles.userId, userId))
    .returning({ userId: sellerProfiles.userId });
  return rows.length > 0;
}
