import { eq } from 'drizzle-orm';
import type { DbOrTx } from '../../platform/db/types.ts';
import { users } from './accounts.tables.ts';
import { normalizeEmail, type User } from './users.repo.ts';

/** The account holding this email, locked: a concurrent link or password change waits its turn. */
export async function lockUserByEmail(db: DbOrTx, email: string): Promise<User | undefined> {
  const [row] = await db
    .select()
    .from(users)
    .where(eq(users.email, normalizeEmail(email)))
    .for('update');
  return row;
}
