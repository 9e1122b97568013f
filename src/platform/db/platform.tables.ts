import { sql } from 'drizzle-orm';
import { bigserial, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Marks a job's side effect as done, keyed by (queue, dedupe key). A handler that is retried or
 * delivered twice sees the row and skips: the effect happens once.
 */
export const jobEffects = pgTable(
  'job_effects',
  {
    queue: text('queue').notNull(),
    dedupeKey: text('dedupe_key').notNull(),
    jobId: text('job_id').notNull(),
    completedAt: timestamp('completed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.queue, table.dedupeKey] }),
    index('job_effects_completed_at_idx').on(table.completedAt),
  ],
);

/** Who did what to which record, with the record before and after. Written by staff actions. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    actorId: text('actor_id'),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id').notNull(),
    before: jsonb('before'),
    after: jsonb('after'),
    requestId: text('request_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().default(sql`now()`),
  },
  (table) => [
    index('audit_log_target_idx').on(table.targetType, table.targetId, table.createdAt),
    index('audit_log_actor_idx').on(table.actorId, table.createdAt),
  ],
);

/**
 * Failure counters for lockouts (failed logins by account and by IP; checkout reuses it for failed
 * payments). A fixed window per (scope, key); `lockedUntil` set when the limit is reached.
 */
export const failureCounters = pgTable(
  'failure_counters',
  {
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    failures: integer('failures').notNull().default(0),
    windowStartedAt: timestamp('window_started_at', { withTimezone: true }).notNull(),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
  },
  (table) => [primaryKey({ columns: [table.scope, table.key] })],
);
