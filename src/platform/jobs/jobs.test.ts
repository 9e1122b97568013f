import { sql } from 'drizzle-orm';
import Type from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { waitFor } from '../../../test/harness/wait-for.ts';
import type { CaravanModule } from '../module.ts';
import type { PlatformServices } from '../services.ts';
import { defineCron, defineJob } from './define-job.ts';

interface Call {
  readonly n: number;
  readonly services: PlatformServices;
  readonly jobId: string;
}
const calls: Call[] = [];
let failures = 0;

const recordJob = defineJob(
  'test.record',
  Type.Object({ n: Type.Integer() }),
  async ({ payload, services, jobId }) => {
    calls.push({ n: payload.n, services, jobId });
  },
);

const failingJob = defineJob(
  'test.failing',
  Type.Object({}),
  async () => {
    failures++;
    throw new Error('always fails');
  },
  { retryLimit: 1, retryDelaySeconds: 1 },
);

const cronCalls: { at: number; services: PlatformServices }[] = [];
const tickJob = defineJob('test.tick', Type.Object({ label: Type.String() }), async ({ services }) => {
  cronCalls.push({ at: Date.now(), services });
});

const testModule: CaravanModule = {
  name: 'jobs-test',
  jobs: [recordJob, failingJob],
  crons: [defineCron('test.every-minute', '* * * * *', tickJob, { label: 'tick' })],
};

async function countJobs(app: TestApp, name: string, n?: number): Promise<number> {
  const filter = n === undefined ? sql`` : sql` and data->'p'->>'n' = ${String(n)}`;
  const result = (await app.platform.db.execute(
    sql`select count(*)::int as count from pgboss.job where name = ${name}${filter}`,
  )) as unknown as { rows: { count: number }[] };
  return result.rows[0]?.count ?? 0;
}

describe('jobs', () => {
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    first = await buildTestApp({ modules: [testModule] });
    second = await buildTestApp({ modules: [testModule], sameDatabaseAs: first });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('never runs a job enqueued in a transaction that rolled back', async () => {
    const { db, jobs } = first.platform;
    await expect(
      db.transaction(async (tx) => {
        await jobs.enqueue(tx, recordJob, { n: -1 });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await countJobs(first, 'test.record', -1)).toBe(0);
    // A job committed afterwards runs, so the workers were live while the rolled-back one was absent.
    await db.transaction((tx) => jobs.enqueue(tx, recordJob, { n: -2 }));
    await waitFor(() => calls.some((call) => call.n === -2), { what: 'the committed job' });
    expect(calls.some((call) => call.n === -1)).toBe(false);
  });

  it('runs each committed job exactly once while two workers compete', async () => {
    const { db, jobs } = first.platform;
    const numbers = Array.from({ length: 60 }, (_, index) => 1000 + index);
    await db.transaction(async (tx) => {
      for (const n of numbers) await jobs.enqueue(tx, recordJob, { n });
    });
    await waitFor(
      async () => {
        const result = (await db.execute(
          sql`select count(*)::int as count from pgboss.job where name = 'test.record' and state = 'completed'
              and (data->'p'->>'n')::int >= 1000`,
        )) as unknown as { rows: { count: number }[] };
        return result.rows[0]?.count === numbers.length;
      },
      { timeoutMs: 20_000, what: 'all jobs completed' },
    );
    const ours = calls.filter((call) => call.n >= 1000);
    expect(ours.map((call) => call.n).sort((a, b) => a - b)).toEqual(numbers);
    expect(new Set(ours.map((call) => call.jobId)).size).toBe(numbers.length);
  });

  it('sends many jobs in one statement, inside the transaction, each run once', async () => {
    const { db, jobs } = first.platform;
    const numbers = Array.from({ length: 100 }, (_, index) => 7000 + index);
    await expect(
      db.transaction(async (tx) => {
        await jobs.enqueueMany(
          tx,
          recordJob,
          numbers.map((n) => ({ payload: { n: -n } })),
        );
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await db.transaction((tx) =>
      jobs.enqueueMany(
        tx,
        recordJob,
        numbers.map((n) => ({ payload: { n } })),
      ),
    );
    await waitFor(() => numbers.every((n) => calls.some((call) => call.n === n)), {
      timeoutMs: 20_000,
      what: 'bulk jobs handled',
    });
    expect(await countJobs(first, 'test.record', -7000)).toBe(0);
    expect(calls.filter((call) => call.n >= 7000 && call.n < 7100)).toHaveLength(100);
  });

  it('gives one effect to two enqueues that share a dedupe key', async () => {
    const { db, jobs } = first.platform;
    await jobs.enqueue(db, recordJob, { n: 5000 }, { dedupeKey: 'same-thing' });
    await waitFor(() => calls.some((call) => call.n === 5000), { what: 'first delivery' });
    await jobs.enqueue(db, recordJob, { n: 5001 }, { dedupeKey: 'same-thing' });
    await waitFor(
      async () => {
        const result = (await db.execute(
          sql`select state from pgboss.job where name = 'test.record' and data->'p'->>'n' = '5001'`,
        )) as unknown as { rows: { state: string }[] };
        return result.rows[0]?.state === 'completed';
      },
      { what: 'second delivery settled' },
    );
    expect(calls.some((call) => call.n === 5001)).toBe(false);
  });

  it('refuses a payload that does not match the schema at enqueue', async () => {
    const { db, jobs } = first.platform;
    await expect(jobs.enqueue(db, recordJob, { n: 'x' } as unknown as { n: number })).rejects.toThrow(
      /invalid/,
    );
  });

  it('retries with backoff, then moves the job to its dead-letter queue', async () => {
    const { db, jobs } = first.platform;
    await jobs.enqueue(db, failingJob, {});
    // pg-boss adds jitter to the exponential backoff, so the one retry lands within seconds, not exactly 1 s.
    await waitFor(async () => (await countJobs(first, 'test.failing.dead')) === 1, {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: 'dead-lettered job',
    });
    expect(failures).toBe(2);
  }, 70_000);

  it('fires a cron schedule once per tick with two workers running it', async () => {
    const start = Date.now();
    const firstTick = await waitFor(() => cronCalls[0], { timeoutMs: 75_000, what: 'the first cron tick' });
    // Both schedulers poll every second: after several more passes the tick must still have one job.
    const quietUntil = Date.now() + 4000;
    await waitFor(() => Date.now() > quietUntil, { timeoutMs: 6000 });
    const sameTick = cronCalls.filter((call) => Math.abs(call.at - firstTick.at) < 30_000);
    expect(sameTick).toHaveLength(1);
    expect(firstTick.at - start).toBeLessThan(75_000);
  }, 90_000);
});
