import { asc, count, eq, isNull, like, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../platform/db/types.ts';
import { categories, products } from './catalog.tables.ts';

export type CategoryRow = typeof categories.$inferSelect;
export type NewCategory = typeof categories.$inferInsert;
export type CategoryChanges = Partial<Pick<NewCategory, 'name' | 'nameKo' | 'position' | 'slug'>>;

/**
 * Serialises every change to the tree's shape (create, reslug, move, delete) for the length of the
 * transaction. They are rare staff actions; one lock keeps the cycle check and the slug-path
 * uniqueness check true at commit time without reasoning about two moves crossing.
 */
export async function lockCategoryTree(db: DbOrTx): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtext('caravan.catalog.categories'))`);
}

export async function findCategory(db: DbOrTx, id: string): Promise<CategoryRow | undefined> {
  const [row] = await db.select().from(categories).where(eq(categories.id, id));
  return row;
}

export async function findCategoryBySlugPath(db: DbOrTx, slugPath: string): Promise<CategoryRow | undefined> {
  const [row] = await db.select().from(categories).where(eq(categories.slugPath, slugPath));
  return row;
}

/** Every category, parents before children, siblings by position then name. */
export async function listAllCategories(db: DbOrTx): Promise<CategoryRow[]> {
  return db
    .select()
    .from(categories)
    .orderBy(asc(categories.depth), asc(categories.position), asc(categories.name), asc(categories.id));
}

export async function listChildCategories(db: DbOrTx, parentId: string | null): Promise<CategoryRow[]> {
  return db
    .select()
    .from(categories)
    .where(parentId === null ? isNull(categories.parentId) : eq(categories.parentId, parentId))
    .orderBy(asc(categories.position), asc(categories.name), asc(categories.id));
}

/** Inserts unless the slug path is taken (then undefined: the caller answers 409). */
export async function insertCategory(db: DbOrTx, category: NewCategory): Promise<CategoryRow | undefined> {
  const [row] = await db
    .insert(categories)
    .values(category)
    .onConflictDoNothing({ target: categories.slugPath })
    .returning();
  return row;
}

export async function updateCategory(
  db: DbOrTx,
  id: string,
  changes: CategoryChanges & { parentId?: string | null; updatedAt: Date },
): Promise<void> {
  await db.update(categories).set(changes).where(eq(categories.id, id));
}

/**
 * Rewrites `path`, `slug_path` and `depth` of a node and its whole subtree in one statement: the
 * old prefixes are swapped for the new ones. Paths hold only uuids and '/', so LIKE needs no
 * escaping and uses the `text_pattern_ops` index.
 */
export async function rewriteSubtree(
  db: DbOrTx,
  from: { path: string; slugPath: string },
  to: { path: string; slugPath: string; depthDelta: number },
  now: Date,
): Promise<void> {
  await db
    .update(categories)
    .set({
      path: sql`${to.path} || substr(${categories.path}, ${from.path.length + 1})`,
      slugPath: sql`${to.slugPath} || substr(${categories.slugPath}, ${from.slugPath.length + 1})`,
      depth: sql`${categories.depth} + ${to.depthDelta}`,
      updatedAt: now,
    })
    .where(like(categories.path, `${from.path}%`));
}

/** The deepest `depth` in the subtree of `path` (the node itself included). */
export async function subtreeMaxDepth(db: DbOrTx, path: string): Promise<number> {
  const [row] = await db
    .select({ depth: sql<number>`max(${categories.depth})::int` })
    .from(categories)
    .where(like(categories.path, `${path}%`));
  return row?.depth ?? 0;
}

export async function countChildCategories(db: DbOrTx, id: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(categories).where(eq(categories.parentId, id));
  return row?.n ?? 0;
}

/** Products of any status filed directly under the category. */
export async function countCategoryProducts(db: DbOrTx, id: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(products).where(eq(products.categoryId, id));
  return row?.n ?? 0;
}

export async function deleteCategory(db: DbOrTx, id: string): Promise<void> {
  await db.delete(categories).where(eq(categories.id, id));
}
