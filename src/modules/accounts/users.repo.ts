import { and, asc, eq, ilike, or, type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../platform/db/types.ts';
import { type Role, sellerProfiles, type UserStatus, users } from './accounts.tables.ts';

export type User = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
export type SellerProfile = typeof sellerProfiles.$inferSelect;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function insertUser(db: DbOrTx, user: NewUser): Promise<User | undefined> {
  const [row] = await db.insert(users).values(user).onConflictDoNothing().returning();
  return row;
}

export async function findUserById(db: DbOrTx, id: string): Promise<User | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  return row;
}

/** Locks the row for the rest of the transaction (password changes, role changes). */
export async function lockUserById(db: DbOrTx, id: string): Promise<User | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id)).for('update');
  return row;
}

export async function findUserByEmail(db: DbOrTx, email: string): Promise<User | undefined> {
  const [row] = await db
    .select()
    .from(users)
    .where(eq(users.email, normalizeEmail(email)));
  return row;
}

export async function findUserByGoogleSubject(db: DbOrTx, subject: string): Promise<User | undefined> {
  const [row] = await db.select().from(users).where(eq(users.googleSubject, subject));
  return row;
}

export async function updateUser(
  db: DbOrTx,
  id: string,
  changes: Partial<Omit<NewUser, 'id' | 'createdAt'>>,
): Promise<User | undefined> {
  const [row] = await db
    .update(users)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(eq(users.id, id))
    .returning();
  return row;
}

export async function searchUsers(
  db: DbOrTx,
  filter: { query?: string; role?: Role; status?: UserStatus; afterEmail?: string; limit: number },
): Promise<User[]> {
  const conditions: SQL[] = [];
  if (filter.query) {
    const pattern = `%${filter.query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    conditions.push(or(ilike(users.email, pattern), ilike(users.displayName, pattern)) as SQL);
  }
  if (filter.role) conditions.push(sql`${filter.role} = any(${users.roles})`);
  if (filter.status) conditions.push(eq(users.status, filter.status));
  if (filter.afterEmail) conditions.push(sql`${users.email} > ${filter.afterEmail}`);
  return db
    .select()
    .from(users)
    .where(and(...conditions))
    .orderBy(asc(users.email))
    .limit(filter.limit);
}

export async function findSellerProfile(db: DbOrTx, userId: string): Promise<SellerProfile | undefined> {
  const [row] = await db.select().from(sellerProfiles).where(eq(sellerProfiles.userId, userId));
  return row;
}

export async function upsertSellerProfile(
  db: DbOrTx,
  userId: string,
  profile: { shopName: string; about?: string },
): Promise<SellerProfile> {
  const [row] = await db
    .insert(sellerProfiles)
    .values({ userId, shopName: profile.shopName, about: profile.about ?? '' })
    .onConflictDoUpdate({
      target: sellerProfiles.userId,
      set: {
        shopName: profile.shopName,
        ...(profile.about !== undefined ? { about: profile.about } : {}),
        updatedAt: sql`now()`,
      },
    })
    .returning();
  return row!;
}
