import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import { auditLog } from '../db/platform.tables.ts';
import type { DbOrTx } from '../db/types.ts';

export type AuditEntry = typeof auditLog.$inferSelect;
export type NewAuditEntry = typeof auditLog.$inferInsert;

export interface AuditFilter {
  readonly targetType?: string;
  readonly targetId?: string;
  readonly actorId?: string;
  /** Cursor: the id of the last entry seen; only older entries (smaller ids) are returned. */
  readonly before?: number;
  readonly limit: number;
}

export async function insertAuditEntry(db: DbOrTx, entry: NewAuditEntry): Promise<AuditEntry> {
  const [row] = await db.insert(auditLog).values(entry).returning();
  return row!;
}

/** Newest first. Ordered by id, not time: rows of one transaction share `now()`. */
export async function selectAuditEntries(db: DbOrTx, filter: AuditFilter): Promise<AuditEntry[]> {
  const conditions: SQL[] = [];
  if (filter.targetType) conditions.push(eq(auditLog.targetType, filter.targetType));
  if (filter.targetId) conditions.push(eq(auditLog.targetId, filter.targetId));
  if (filter.actorId) conditions.push(eq(auditLog.actorId, filter.actorId));
  if (filter.before !== undefined) conditions.push(lt(auditLog.id, filter.before));
  return db
    .select()
    .from(auditLog)
    .where(and(...conditions))
    .orderBy(desc(auditLog.id))
    .limit(filter.limit);
}
