import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/harness/test-database.ts';
import { waitFor } from '../../../test/harness/wait-for.ts';
import { loadConfigFromProcess } from '../config/config.ts';
import type { Subscription } from './client.ts';

const CHANNEL = 'caravan_listen_test';

/** A subscription that records what it is told. */
async function record(testDatabase: TestDatabase) {
  const payloads: string[] = [];
  const resets: boolean[] = [];
  const subscription: Subscription = await testDatabase.database.listen(CHANNEL, {
    onNotify: (payload) => payloads.push(payload),
    onReset: (listening) => resets.push(listening),
  });
  return { payloads, resets, subscription };
}

describe('Database.listen', () => {
  let testDatabase: TestDatabase;

  beforeAll(async () => {
    testDatabase = await createTestDatabase(loadConfigFromProcess({ NODE_ENV: 'test' }));
  });
  afterAll(() => testDatabase?.drop());

  const notify = (payload: string) => sql`select pg_notify(${CHANNEL}, ${payload})`;

  it('delivers notifications of committed transactions only', async () => {
    const { db } = testDatabase.database;
    const { payloads, resets, subscription } = await record(testDatabase);
    try {
      expect(subscription.listening).toBe(true);
      expect(resets).toEqual([true]);
      await db
        .transaction(async (tx) => {
          await tx.execute(notify('rolled back'));
          throw new Error('roll back');
        })
        .catch(() => {});
      await db.transaction(async (tx) => {
        await tx.execute(notify('committed'));
      });
      await db.execute(notify('autocommit'));
      // Notifications arrive in commit order: once the last is here, a rolled-back one would be too.
      await waitFor(() => payloads.includes('autocommit'), { what: 'the autocommit notification' });
      expect(payloads).toEqual(['committed', 'autocommit']);
    } finally {
      await subscription.close();
    }
    expect(subscription.listening).toBe(false);
    await db.execute(notify('after close'));
    const { payloads: other, subscription: second } = await record(testDatabase);
    await db.execute(notify('to the second'));
    await waitFor(() => other.includes('to the second'), { what: 'the second subscription' });
    await second.close();
    expect(payloads).toEqual(['committed', 'autocommit']);
  });

  it.skipIf(!process.env.DATABASE_URL)(
    'PostgreSQL: a lost connection resets the subscription, which reconnects and resets again',
    async () => {
      const { db } = testDatabase.database;
      const { payloads, resets, subscription } = await record(testDatabase);
      const admin = new pg.Client({ connectionString: testDatabase.url });
      await admin.connect();
      try {
        const backends = await admin.query<{ pid: number }>(
          `select pid from pg_stat_activity where application_name = 'caravan-listen' and datname = current_database()`,
        );
        expect(backends.rows).toHaveLength(1);
        const [{ pid }] = backends.rows as [{ pid: number }];
        await admin.query('select pg_terminate_backend($1)', [pid]);
        await waitFor(() => resets.length === 3, { what: 'the reset and the reconnection' });
        expect(resets).toEqual([true, false, true]);
        expect(subscription.listening).toBe(true);
        const again = await admin.query<{ pid: number }>(
          `select pid from pg_stat_activity where application_name = 'caravan-listen' and datname = current_database()`,
        );
        expect(again.rows.map((row) => row.pid)).not.toContain(pid);
        await db.execute(notify('after reconnect'));
        await waitFor(() => payloads.includes('after reconnect'), {
          what: 'a notification after reconnecting',
        });
        await subscription.close();
        await waitFor(
          async () =>
            (
              await admin.query(
                `select 1 from pg_stat_activity where application_name = 'caravan-listen' and datname = current_database()`,
              )
            ).rowCount === 0,
          { what: 'the listener connection to close' },
        );
        expect(resets).toEqual([true, false, true]);
      } finally {
        await subscription.close();
        await admin.end();
      }
    },
  );
});
