/**
 * Statement counting for tests, as Saleor's `assertNumQueries`: pin how many SQL statements an
 * endpoint issues, so a change that adds a query per row (N+1) fails CI.
 *
 *   const { result, count } = await countStatements(app, () => sendAs(app, 'GET', '/api/orders', buyer));
 *   expect(count.statements, count.texts.join('\n')).toBe(2);
 *
 * What counts: every statement handed to the app's database driver while `block` runs, from work
 * started by `block` (AsyncLocalStorage), whatever the pool or connection. One driver call is one
 * statement: a prepared statement is one, BEGIN / COMMIT / ROLLBACK / SAVEPOINT are one each (also
 * reported apart as `transactionControl`), and a string of several statements sent in one call is
 * one. Job workers and crons run in their own async contexts and are not counted, even while
 * `block` runs. A session lookup the verifier batches for several requests counts for the one that
 * started the batch.
 * - PostgreSQL: `pg.Client#query` is wrapped once per process (every pool: the app's and
 *   pg-boss's), and `pg.Pool#connect` binds its callback to the caller's context: `pool.query`
 *   runs its statement from that callback, which a full pool calls from whichever context released
 *   a connection (another request, a job), and the statement belongs to the caller.
 * - PGlite: the app's instance gets `query`, `exec` and `transaction` wrapped (drizzle and pg-boss
 *   both use them); inside a transaction the statements go through the `tx` object, wrapped too,
 *   and BEGIN and COMMIT/ROLLBACK, which PGlite runs itself, are counted at its start and end.
 *
 * Why the context is entered around the block and not in an `onRequest` hook: a hook added through
 * `extraRoutes` runs after the platform's own `onRequest` hook, which authenticates the request,
 * so the access-token session lookup would never be counted (checked: such a hook already sees
 * `request.principal`), and `buildApp` is ready before a test could add a hook earlier. Around `app.http.inject` everything the request does is in the block.
 * Measure one request per block; statements a request leaves running after its response are
 * counted only if they start before the response arrives.
 */
import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import pg from 'pg';
import type { CaravanApp } from '../../src/app.ts';

export interface StatementCount {
  /** Every statement, transaction control included. */
  readonly statements: number;
  /** Of those, BEGIN / COMMIT / ROLLBACK / SAVEPOINT / RELEASE. */
  readonly transactionControl: number;
  /** Transactions begun (BEGIN statements). */
  readonly transactions: number;
  /** The statements in the order issued, whitespace collapsed: the message of a failing assertion. */
  readonly texts: readonly string[];
}

interface Measurement {
  open: boolean;
  texts: string[];
}

const measuring = new AsyncLocalStorage<Measurement>();

const TRANSACTION_CONTROL = /^(begin|start transaction|commit|end|rollback|savepoint|release)\b/i;

function record(text: string, into: Measurement | undefined = measuring.getStore()): void {
  if (!into?.open) return;
  into.texts.push(text.replace(/\s+/g, ' ').trim());
}

function textOf(first: unknown): string {
  if (typeof first === 'string') return first;
  const text = (first as { text?: unknown } | undefined)?.text;
  return typeof text === 'string' ? text : '(unknown statement)';
}

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

let pgInstrumented = false;

function instrumentPg(): void {
  if (pgInstrumented) return;
  pgInstrumented = true;
  const client = pg.Client.prototype as unknown as { query: AnyFunction };
  const query = client.query;
  client.query = function countedQuery(this: unknown, ...args: unknown[]) {
    record(textOf(args[0]));
    return query.apply(this, args);
  };
  const pool = pg.Pool.prototype as unknown as { connect: AnyFunction };
  const connect = pool.connect;
  pool.connect = function boundConnect(this: unknown, ...args: unknown[]) {
    const callback = args[0];
    if (typeof callback !== 'function') return connect.apply(this, args);
    return connect.call(this, AsyncResource.bind(callback as AnyFunction));
  };
}

const pgliteInstrumented = new WeakSet<PGlite>();

function instrumentPglite(pglite: PGlite): void {
  if (pgliteInstrumented.has(pglite)) return;
  pgliteInstrumented.add(pglite);
  const query = pglite.query.bind(pglite);
  const exec = pglite.exec.bind(pglite);
  const transaction = pglite.transaction.bind(pglite);
  pglite.query = ((text: string, ...rest: never[]) => {
    record(text);
    return query(text, ...rest);
  }) as PGlite['query'];
  pglite.exec = ((text: string, ...rest: never[]) => {
    record(text);
    return exec(text, ...rest);
  }) as PGlite['exec'];
  pglite.transaction = (<T>(callback: (tx: Transaction) => Promise<T>) => {
    const into = measuring.getStore();
    record('BEGIN', into);
    let rolledBack = false;
    let callbackDone = false;
    const outcome = transaction(async (tx) => {
      const counted: Transaction = {
        query: (text, ...rest) => {
          record(text);
          return tx.query(text, ...rest);
        },
        sql: (strings, ...params) => {
          record(strings.join('$?'));
          return tx.sql(strings, ...params);
        },
        exec: (text, ...rest) => {
          record(text);
          return tx.exec(text, ...rest);
        },
        rollback: () => {
          rolledBack = true;
          record('ROLLBACK');
          return tx.rollback();
        },
        listen: (channel, listener) => tx.listen(channel, listener),
        get closed() {
          return tx.closed;
        },
      };
      const value = await callback(counted);
      callbackDone = true;
      return value;
    });
    // PGlite ends the transaction itself: COMMIT after the callback (which throws when the
    // transaction had failed), ROLLBACK when the callback throws.
    return outcome.then(
      (value) => {
        if (!rolledBack) record('COMMIT', into);
        return value;
      },
      (error: unknown) => {
        if (!rolledBack) record(callbackDone ? 'COMMIT' : 'ROLLBACK', into);
        throw error;
      },
    );
  }) as PGlite['transaction'];
}

/** Counts the statements `block` makes the app's database run (see the comment at the top). */
export async function countStatements<T>(
  app: Pick<CaravanApp, 'platform'>,
  block: () => Promise<T>,
): Promise<{ result: T; count: StatementCount }> {
  const { database } = app.platform;
  if (database.pglite) instrumentPglite(database.pglite);
  else instrumentPg();
  const measurement: Measurement = { open: true, texts: [] };
  let result: T;
  try {
    // Awaited inside the context: `app.http.inject` returns a lazy thenable that only dispatches
    // the request when awaited, which outside `run` would be outside the measurement.
    result = await measuring.run(measurement, async () => await block());
  } finally {
    measurement.open = false;
  }
  const texts = [...measurement.texts];
  const control = texts.filter((text) => TRANSACTION_CONTROL.test(text));
  return {
    result,
    count: {
      statements: texts.length,
      transactionControl: control.length,
      transactions: control.filter((text) => /^(begin|start transaction)\b/i.test(text)).length,
      texts,
    },
  };
}
