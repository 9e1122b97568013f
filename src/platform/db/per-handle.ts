import type { DbOrTx } from './types.ts';

/**
 * One value per database handle, built on its first use. For Drizzle's `.prepare(name)`
 * statements, which stay bound to the handle that built them: build once, reuse on every call.
 */
export function perHandle<T>(build: (db: DbOrTx) => T): (db: DbOrTx) => T {
  const built = new WeakMap<DbOrTx, T>();
  return (db) => {
    let value = built.get(db);
    if (value === undefined) {
      value = build(db);
      built.set(db, value);
    }
    return value;
  };
}
