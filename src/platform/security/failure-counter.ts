import { and, eq, sql } from 'drizzle-orm';
import type { Clock } from '../clock/clock.ts';
import { failureCounters } from '../db/platform.tables.ts';
import type { DbOrTx } from '../db/types.ts';
import { AppError, registerErrorCodes } from '../errors/index.ts';

registerErrorCodes({ too_many_attempts: 429 });

export interface FailurePolicy {
  /** Names what is counted: `login:account`, `login:ip`, `checkout:payment`. */
  readonly scope: string;
  readonly maxFailures: number;
  readonly windowSeconds: number;
  readonly lockoutSeconds: number;
}

export interface FailureState {
  readonly locked: boolean;
  readonly retryAfterSeconds: number;
  readonly failures: number;
}

export interface FailureCounter {
  readonly policy: FailurePolicy;
  state(db: DbOrTx, key: string): Promise<FailureState>;
  /** Throws 429 `too_many_attempts` with Retry-After while `key` is locked out. */
  assertNotLocked(db: DbOrTx, key: string): Promise<void>;
  /** Counts one failure atomically (one statement, safe under concurrency); locks at the limit. */
  recordFailure(db: DbOrTx, key: string): Promise<FailureState>;
  reset(db: DbOrTx, key: string): Promise<void>;
}

function lockedError(policy: FailurePolicy, retryAfterSeconds: number): AppError {
  return new AppError('too_many_attempts', 'Too many failed attempts; try again later', {
    headers: { 'retry-after': String(retryAfterSeconds) },
    details: { scope: policy.scope, retryAfterSeconds },
  });
}

/**
 * A fixed-window failure counter with a lockout, kept in PostgreSQL so it holds across instances
 * and restarts. Accounts use it for logins; checkout uses it for failed payment attempts.
 */
export function createFailureCounter(policy: FailurePolicy, clock: Clock): FailureCounter {
  const toState = (failures: number, lockedUntil: Date | null): FailureState => {
    const remainingMs = lockedUntil ? lockedUntil.getTime() - clock.now().getTime() : 0;
    return {
      locked: remainingMs > 0,
      retryAfterSeconds: Math.max(0, Math.ceil(remainingMs / 1000)),
      failures,
    };
  };
  const where = (key: string) => and(eq(failureCounters.scope, policy.scope), eq(failureCounters.key, key));

  return {
    policy,
    async state(db, key) {
      const [row] = await db.select().from(failureCounters).where(where(key));
      return row
        ? toState(row.failures, row.lockedUntil)
        : { locked: false, retryAfterSeconds: 0, failures: 0 };
    },
    async assertNotLocked(db, key) {
      const current = await this.state(db, key);
      if (current.locked) throw lockedError(policy, current.retryAfterSeconds);
    },
    async recordFailure(db, key) {
      const now = clock.now();
      const windowStart = new Date(now.getTime() - policy.windowSeconds * 1000).toISOString();
      const lockUntil = new Date(now.getTime() + policy.lockoutSeconds * 1000).toISOString();
      // A new window starts when the old one has passed or a lockout has just ended.
      const fresh = sql`(${failureCounters.windowStartedAt} < ${windowStart}::timestamptz
        or ${failureCounters.lockedUntil} <= ${now.toISOString()}::timestamptz)`;
      const next = sql`case when ${fresh} then 1 else ${failureCounters.failures} + 1 end`;
      const [row] = await db
        .insert(failureCounters)
        .values({
          scope: policy.scope,
          key,
          failures: 1,
          windowStartedAt: now,
          lockedUntil: policy.maxFailures <= 1 ? new Date(lockUntil) : null,
        })
        .onConflictDoUpdate({
          target: [failureCounters.scope, failureCounters.key],
          set: {
            failures: next,
            windowStartedAt: sql`case when ${fresh} then ${now.toISOString()}::timestamptz else ${failureCounters.windowStartedAt} end`,
            lockedUntil: sql`case when ${next} >= ${policy.maxFailures} then ${lockUntil}::timestamptz else ${failureCounters.lockedUntil} end`,
          },
        })
        .returning({ failures: failureCounters.failures, lockedUntil: failureCounters.lockedUntil });
      return toState(row?.failures ?? 1, row?.lockedUntil ?? null);
    },
    async reset(db, key) {
      await db.delete(failureCounters).where(where(key));
    },
  };
}
