import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/harness/test-database.ts';
import { loadConfigFromProcess } from '../config/config.ts';
import { shapePreparer } from './prepared-sql.ts';

describe('shapePreparer', () => {
  let testDatabase: TestDatabase;

  beforeAll(async () => {
    testDatabase = await createTestDatabase(loadConfigFromProcess({ NODE_ENV: 'test' }));
  });
  afterAll(() => testDatabase?.drop());

  const shapeA = (n: number) => sql`select ${n}::int + 1 as v`;
  const shapeB = (n: number) => sql`select ${n}::int * 2 as v`;

  it('answers with each run’s own values, prepared per shape up to the cap, unnamed beyond it', async () => {
    const run = shapePreparer('shape_test', 1);
    const { db } = testDatabase.database;
    // One transaction: one connection, so what it prepared can be looked at.
    await db.transaction(async (tx) => {
      expect(await run<{ v: number }>(tx, shapeA(1))).toEqual([{ v: 2 }]);
      expect(await run<{ v: number }>(tx, shapeA(41))).toEqual([{ v: 42 }]);
      // Over the cap (1 shape): still answered, never prepared.
      expect(await run<{ v: number }>(tx, shapeB(21))).toEqual([{ v: 42 }]);
      if (testDatabase.database.kind !== 'postgres') return; // PGlite ignores statement names
      const prepared = await tx.execute(
        sql`select statement from pg_prepared_statements where name like 'shape_test_%'`,
      );
      const statements = (prepared as unknown as { rows: Array<{ statement: string }> }).rows;
      expect(statements).toHaveLength(1);
      expect(statements[0]?.statement).toContain('+ 1');
    });
  });
});
