import type { DbOrTx, Tx } from '../db/types.ts';
import { type AuditEntry, type AuditFilter, insertAuditEntry, selectAuditEntries } from './audit.repo.ts';

export type { AuditEntry, AuditFilter } from './audit.repo.ts';

export interface AuditRecord {
  /** Who acted; null for the system or the CLI. */
  readonly actorId: string | null;
  /** `<target>.<verb>`, e.g. `user.deactivate`. */
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string;
  /** The changed fields as they were, and as they are now. Secrets are redacted before storing. */
  readonly before?: Record<string, unknown> | null;
  readonly after?: Record<string, unknown> | null;
  /** The HTTP request's id (`request.id`), so the row links to its log lines. */
  readonly requestId?: string | null;
}

/** Keys whose values never reach the audit log (password hashes, tokens, keys). */
const SECRET_KEY = /password|passwd|secret|token|hash|credential|api_?key|private_?key/i;
export const REDACTED = '[redacted]';

/**
 * A JSON-safe copy with secret values replaced by `[redacted]` (null stays null, so "had no
 * password" still reads). Dates become ISO strings, bigints strings; undefined is dropped.
 */
export function redactForAudit(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return typeof value === 'function' ? null : value;
  if (depth > 8) return REDACTED; // nothing we audit is this deep; refuse to walk cycles
  if (Array.isArray(value)) return value.map((item) => redactForAudit(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    copy[key] = SECRET_KEY.test(key) && item !== null ? REDACTED : redactForAudit(item, depth + 1);
  }
  return copy;
}

/**
 * Writes one audit row in the caller's transaction: the row exists exactly when the change it
 * describes committed. Takes a `Tx` (not the root db) so that cannot be forgotten.
 */
export async function recordAudit(tx: Tx, record: AuditRecord): Promise<AuditEntry> {
  return insertAuditEntry(tx, {
    actorId: record.actorId,
    action: record.action,
    targetType: record.targetType,
    targetId: record.targetId,
    before: record.before ? redactForAudit(record.before) : null,
    after: record.after ? redactForAudit(record.after) : null,
    requestId: record.requestId ?? null,
  });
}

/** Audit rows, newest first, filtered by target and/or actor; `before` is an id cursor. */
export async function listAudit(db: DbOrTx, filter: AuditFilter): Promise<AuditEntry[]> {
  return selectAuditEntries(db, filter);
}
