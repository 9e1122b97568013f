import { and, count, desc, eq, getTableColumns, ne } from 'drizzle-orm';
import type { DbOrTx } from '../../platform/db/types.ts';
import { addresses, provinces, users } from './accounts.tables.ts';

export type AddressRow = typeof addresses.$inferSelect;
export type NewAddress = typeof addresses.$inferInsert;
export type AddressChanges = Partial<Omit<NewAddress, 'id' | 'userId' | 'createdAt' | 'isDefaultShipping'>>;

/** An address with its province's code and name, as the API shows it. */
export type AddressWithProvince = AddressRow & { provinceCode: string; provinceName: string };

const withProvince = {
  ...getTableColumns(addresses),
  provinceCode: provinces.code,
  provinceName: provinces.name,
};

/**
 * Serialises every address change of one user (count limit, first default, default switch,
 * promotion). `NO KEY UPDATE` does not block the `KEY SHARE` locks that foreign-key checks take,
 * so the user's other writes (sessions, orders) are not held up.
 */
export async function lockAddressOwner(db: DbOrTx, userId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: users.id })
    .from(users)
    .where(eq(users.id, userId))
    .for('no key update');
  return row !== undefined;
}

export async function listAddresses(db: DbOrTx, userId: string): Promise<AddressWithProvince[]> {
  return db
    .select(withProvince)
    .from(addresses)
    .innerJoin(provinces, eq(provinces.id, addresses.provinceId))
    .where(eq(addresses.userId, userId))
    .orderBy(desc(addresses.isDefaultShipping), desc(addresses.createdAt), desc(addresses.id));
}

export async function findAddress(
  db: DbOrTx,
  userId: string,
  id: string,
): Promise<AddressWithProvince | undefined> {
  const [row] = await db
    .select(withProvince)
    .from(addresses)
    .innerJoin(provinces, eq(provinces.id, addresses.provinceId))
    .where(and(eq(addresses.id, id), eq(addresses.userId, userId)));
  return row;
}

export async function findDefaultAddress(
  db: DbOrTx,
  userId: string,
): Promise<AddressWithProvince | undefined> {
  const [row] = await db
    .select(withProvince)
    .from(addresses)
    .innerJoin(provinces, eq(provinces.id, addresses.provinceId))
    .where(and(eq(addresses.userId, userId), eq(addresses.isDefaultShipping, true)));
  return row;
}

export async function countAddresses(db: DbOrTx, userId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(addresses).where(eq(addresses.userId, userId));
  return row?.n ?? 0;
}

export async function insertAddress(db: DbOrTx, address: NewAddress): Promise<AddressRow> {
  const [row] = await db.insert(addresses).values(address).returning();
  return row!;
}

export async function updateAddress(
  db: DbOrTx,
  userId: string,
  id: string,
  changes: AddressChanges & { updatedAt: Date },
): Promise<AddressRow | undefined> {
  const [row] = await db
    .update(addresses)
    .set(changes)
    .where(and(eq(addresses.id, id), eq(addresses.userId, userId)))
    .returning();
  return row;
}

export async function deleteAddress(db: DbOrTx, userId: string, id: string): Promise<AddressRow | undefined> {
  const [row] = await db
    .delete(addresses)
    .where(and(eq(addresses.id, id), eq(addresses.userId, userId)))
    .returning();
  return row;
}

/** Clears the user's default, except on `keepId`. Run before setting a new one (partial unique index). */
export async function clearDefaultAddress(
  db: DbOrTx,
  userId: string,
  now: Date,
  keepId?: string,
): Promise<void> {
  await db
    .update(addresses)
    .set({ isDefaultShipping: false, updatedAt: now })
    .where(
      and(
        eq(addresses.userId, userId),
        eq(addresses.isDefaultShipping, true),
        ...(keepId ? [ne(addresses.id, keepId)] : []),
      ),
    );
}

export async function markDefaultAddress(db: DbOrTx, userId: string, id: string, now: Date): Promise<void> {
  await db
    .update(addresses)
    .set({ isDefaultShipping: true, updatedAt: now })
    .where(and(eq(addresses.id, id), eq(addresses.userId, userId)));
}

/** The user's most recently created address, the one promoted when the default is deleted. */
export async function findLatestAddressId(db: DbOrTx, userId: string): Promise<string | undefined> {
  const [row] = await db
    .select({ id: addresses.id })
    .from(addresses)
    .where(eq(addresses.userId, userId))
    .orderBy(desc(addresses.createdAt), desc(addresses.id))
    .limit(1);
  return row?.id;
}
