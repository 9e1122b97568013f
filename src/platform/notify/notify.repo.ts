import { and, count, desc, eq, isNull, lt, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../db/types.ts';
import { inAppNotifications, outboundMessages } from './notify.tables.ts';

export type OutboundMessage = typeof outboundMessages.$inferSelect;
export type NewOutboundMessage = typeof outboundMessages.$inferInsert;
export type InAppNotification = typeof inAppNotifications.$inferSelect;

/** Inserts the message unless one with its dedupe key exists; returns the row either way. */
export async function upsertOutbound(db: DbOrTx, message: NewOutboundMessage): Promise<OutboundMessage> {
  const [inserted] = await db.insert(outboundMessages).values(message).onConflictDoNothing().returning();
  if (inserted) return inserted;
  const [existing] = await db
    .select()
    .from(outboundMessages)
    .where(eq(outboundMessages.dedupeKey, message.dedupeKey));
  if (!existing) throw new Error(`outbound message ${message.dedupeKey} vanished`);
  return existing;
}

export async function markOutbound(
  db: DbOrTx,
  id: string,
  update: Pick<Partial<OutboundMessage>, 'status' | 'providerMessageId' | 'error' | 'sentAt'>,
): Promise<void> {
  await db.update(outboundMessages).set(update).where(eq(outboundMessages.id, id));
}

export async function listOutbound(
  db: DbOrTx,
  filter: { channel?: 'email' | 'sms'; recipient?: string; before?: Date; limit: number },
): Promise<OutboundMessage[]> {
  const conditions: SQL[] = [];
  if (filter.channel) conditions.push(eq(outboundMessages.channel, filter.channel));
  if (filter.recipient) conditions.push(eq(outboundMessages.recipient, filter.recipient));
  if (filter.before) conditions.push(lt(outboundMessages.createdAt, filter.before));
  return db
    .select()
    .from(outboundMessages)
    .where(and(...conditions))
    .orderBy(desc(outboundMessages.createdAt))
    .limit(filter.limit);
}

export async function findOutbound(db: DbOrTx, id: string): Promise<OutboundMessage | undefined> {
  const [row] = await db.select().from(outboundMessages).where(eq(outboundMessages.id, id));
  return row;
}

export async function insertInApp(
  db: DbOrTx,
  notification: typeof inAppNotifications.$inferInsert,
): Promise<InAppNotification | undefined> {
  const [row] = await db.insert(inAppNotifications).values(notification).onConflictDoNothing().returning();
  return row;
}

export async function listInApp(
  db: DbOrTx,
  userId: string,
  filter: { unreadOnly: boolean; before?: Date; limit: number },
): Promise<{ items: InAppNotification[]; unread: number }> {
  const conditions: SQL[] = [eq(inAppNotifications.userId, userId)];
  if (filter.unreadOnly) conditions.push(isNull(inAppNotifications.readAt));
  if (filter.before) conditions.push(lt(inAppNotifications.createdAt, filter.before));
  const items = await db
    .select()
    .from(inAppNotifications)
    .where(and(...conditions))
    .orderBy(desc(inAppNotifications.createdAt))
    .limit(filter.limit);
  const [unread] = await db
    .select({ value: count() })
    .from(inAppNotifications)
    .where(and(eq(inAppNotifications.userId, userId), isNull(inAppNotifications.readAt)));
  return { items, unread: unread?.value ?? 0 };
}

export async function markInAppRead(db: DbOrTx, userId: string, id: string, at: Date): Promise<boolean> {
  const rows = await db
    .update(inAppNotifications)
    .set({ readAt: at })
    .where(and(eq(inAppNotifications.id, id), eq(inAppNotifications.userId, userId)))
    .returning({ id: inAppNotifications.id });
  return rows.length > 0;
}
