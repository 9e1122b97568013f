import { createHash } from 'node:crypto';
import { getTableColumns, type SQL, type Table } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { DbOrTx } from './types.ts';

const dialect = new PgDialect();

export interface PreparedSql<Row, Values extends Record<string, unknown>> {
  /** Runs the statement on `executor` (the root db or an open transaction) with these values. */
  run(executor: DbOrTx, values: Values): Promise<Row[]>;
}

/**
 * A raw statement with `sql.placeholder(name)` for its values, built into SQL text once (at
 * import) and run as the named prepared statement `name` on whatever executor is passed.
 *
 * Drizzle's own `.prepare(name)` binds the statement to the handle it was built on, so it cannot
 * serve statements inside transactions (a new handle each time); this can: per run it only wraps
 * the built text for the executor's session, so nothing is rebuilt, and on PostgreSQL each pooled
 * connection parses and plans the statement once. On PGlite the name is ignored. Rows come back
 * as the driver gives them (column aliases as keys; timestamps as text, bigint as text on pg).
 * For hot statements of a fixed shape only; `name` must be unique in the process.
 */
export function preparedSql<Row, Values extends Record<string, unknown>>(
  name: string,
  statement: SQL,
): PreparedSql<Row, Values> {
  const query = dialect.sqlToQuery(statement);
  return {
    run: (executor, values) => runNamed<Row>(executor, name, query, values),
  };
}

async function runNamed<Row>(
  executor: DbOrTx,
  name: string,
  query: { sql: string; params: unknown[] },
  values?: Record<string, unknown>,
): Promise<Row[]> {
  const result = await executor._.session.prepareQuery(query, undefined, name, false).execute(values);
  return (result as unknown as { rows: Row[] }).rows;
}

/**
 * Runs statements whose text varies with their input (one text per shape, values as parameters)
 * as named prepared statements, so each pooled connection parses and plans a shape once, for at
 * most `maxShapes` distinct texts per process; any further shape runs unnamed (a connection never
 * deallocates what it prepared, so the cap bounds the server memory kept for them). The name is a
 * hash of the text: the same text always gets the same name.
 */
export function shapePreparer(prefix: string, maxShapes: number) {
  const names = new Map<string, string>();
  return async <Row>(executor: DbOrTx, statement: SQL): Promise<Row[]> => {
    const query = dialect.sqlToQuery(statement);
    let name = names.get(query.sql);
    if (name === undefined && names.size < maxShapes) {
      name = `${prefix}_${createHash('sha1').update(query.sql).digest('hex').slice(0, 20)}`;
      names.set(query.sql, name);
    }
    if (name === undefined) return ((await executor.execute(statement)) as unknown as { rows: Row[] }).rows;
    return runNamed<Row>(executor, name, query);
  };
}

/**
 * Maps a raw row of `table` (`returning *` or `select *` through `preparedSql`: column names,
 * driver values) to what Drizzle's own queries return (property names, Dates, numbers, parsed JSON).
 */
export function tableRowMapper<T extends Table>(
  table: T,
): (raw: Record<string, unknown>) => T['$inferSelect'] {
  const columns = Object.entries(getTableColumns(table));
  return (raw) => {
    const row: Record<string, unknown> = {};
    for (const [key, column] of columns) {
      const value = raw[column.name];
      row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
    }
    return row as T['$inferSelect'];
  };
}
