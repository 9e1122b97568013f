import { asc, eq } from 'drizzle-orm';
import type { DbOrTx } from '../../platform/db/types.ts';
import { cities, countries, provinces } from './accounts.tables.ts';

export type Country = typeof countries.$inferSelect;
export type Province = typeof provinces.$inferSelect;
export type City = typeof cities.$inferSelect;

export async function listCountries(db: DbOrTx): Promise<Country[]> {
  return db.select().from(countries).orderBy(asc(countries.name));
}

export async function findCountry(db: DbOrTx, code: string): Promise<Country | undefined> {
  const [row] = await db.select().from(countries).where(eq(countries.code, code));
  return row;
}

export async function listProvinces(db: DbOrTx, countryCode: string): Promise<Province[]> {
  return db
    .select()
    .from(provinces)
    .where(eq(provinces.countryCode, countryCode))
    .orderBy(asc(provinces.name));
}

export async function findProvince(db: DbOrTx, id: number): Promise<Province | undefined> {
  const [row] = await db.select().from(provinces).where(eq(provinces.id, id));
  return row;
}

export async function listCities(db: DbOrTx, provinceId: number): Promise<City[]> {
  return db.select().from(cities).where(eq(cities.provinceId, provinceId)).orderBy(asc(cities.name));
}

export async function findCity(db: DbOrTx, id: number): Promise<City | undefined> {
  const [row] = await db.select().from(cities).where(eq(cities.id, id));
  return row;
}
