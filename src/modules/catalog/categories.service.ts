import { randomUUID } from 'node:crypto';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Db, DbOrTx } from '../../platform/db/types.ts';
import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';
import {
  type CategoryChanges,
  type CategoryRow,
  countCategoryProducts,
  countChildCategories,
  deleteCategory,
  findCategory,
  findCategoryBySlugPath,
  insertCategory,
  listAllCategories,
  listChildCategories,
  lockCategoryTree,
  rewriteSubtree,
  subtreeMaxDepth,
  updateCategory,
} from './categories.repo.ts';
import {
  type CreateCategoryInput,
  MAX_CATEGORY_LEVELS,
  type MoveCategoryInput,
  type UpdateCategoryInput,
} from './categories.schemas.ts';
import { slugify } from './slug.ts';

registerErrorCodes({
  /** Moving a category under itself or one of its descendants. */
  category_cycle: 409,
  /** Deleting a category that still has children or products. */
  category_not_empty: 409,
  /** Another category under the same parent has this slug. */
  category_slug_taken: 409,
  /** The change would make the tree deeper than MAX_CATEGORY_LEVELS. */
  category_too_deep: 422,
});

export type CategoryNode = CategoryRow & { children: CategoryNode[] };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const notFound = () => new AppError('not_found', 'No such category');

/** A category by id, or by slug path (`fashion/shoes`, surrounding slashes ignored). */
export async function resolveCategory(db: DbOrTx, idOrSlugPath: string): Promise<CategoryRow | undefined> {
  if (UUID.test(idOrSlugPath)) return findCategory(db, idOrSlugPath.toLowerCase());
  const slugPath = idOrSlugPath.replace(/^\/+|\/+$/g, '');
  return slugPath ? findCategoryBySlugPath(db, slugPath) : undefined;
}

function buildTree(rows: CategoryRow[]): CategoryNode[] {
  const nodes = new Map<string, CategoryNode>();
  const roots: CategoryNode[] = [];
  // Rows come parents first (ordered by depth), so a child's parent is always already there.
  for (const row of rows) {
    const node: CategoryNode = { ...row, children: [] };
    nodes.set(row.id, node);
    const parent = row.parentId ? nodes.get(row.parentId) : undefined;
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}

function joinSlugPath(parent: CategoryRow | undefined, slug: string): string {
  return parent ? `${parent.slugPath}/${slug}` : slug;
}

function slugTaken(slugPath: string) {
  return new AppError('category_slug_taken', `The slug path ${slugPath} is taken`, {
    fields: [{ field: 'body.slug', message: 'Another category under this parent has this slug' }],
    details: { slugPath },
  });
}

function tooDeep() {
  return new AppError('category_too_deep', `Categories nest at most ${MAX_CATEGORY_LEVELS} levels`, {
    details: { maxLevels: MAX_CATEGORY_LEVELS },
  });
}

export interface CategoriesService {
  tree(): Promise<CategoryNode[]>;
  children(options: { parent: string }): Promise<CategoryRow[]>;
  get(options: { idOrSlugPath: string }): Promise<CategoryRow>;
  create(options: { input: CreateCategoryInput }): Promise<CategoryRow>;
  update(options: { id: string; input: UpdateCategoryInput }): Promise<CategoryRow>;
  move(options: { id: string; input: MoveCategoryInput }): Promise<CategoryRow>;
  remove(options: { id: string }): Promise<void>;
}

/**
 * The category tree, changed by staff. Each node stores its ancestor-id `path` (subtree = prefix
 * match), its `slugPath` and `depth`; a reslug or a move rewrites those of the whole subtree in
 * the same transaction, under one advisory lock for every change to the tree's shape.
 */
export function createCategoriesService({ db, clock }: { db: Db; clock: Clock }): CategoriesService {
  async function load(tx: DbOrTx, id: string): Promise<CategoryRow> {
    const row = await findCategory(tx, id);
    if (!row) throw notFound();
    return row;
  }

  async function loadParent(
    tx: DbOrTx,
    parentId: string | null | undefined,
  ): Promise<CategoryRow | undefined> {
    if (!parentId) return undefined;
    const parent = await findCategory(tx, parentId);
    if (!parent) {
      throw new AppError('not_found', 'No such parent category', {
        fields: [{ field: 'body.parentId', message: 'No such category' }],
      });
    }
    return parent;
  }

  return {
    async tree() {
      return buildTree(await listAllCategories(db));
    },

    async children({ parent }) {
      if (parent === 'root') return listChildCategories(db, null);
      const row = await resolveCategory(db, parent);
      if (!row) throw notFound();
      return listChildCategories(db, row.id);
    },

    async get({ idOrSlugPath }) {
      const row = await resolveCategory(db, idOrSlugPath);
      if (!row) throw notFound();
      return row;
    },

    create({ input }) {
      return db.transaction(async (tx) => {
        await lockCategoryTree(tx);
        const parent = await loadParent(tx, input.parentId);
        const depth = parent ? parent.depth + 1 : 0;
        if (depth >= MAX_CATEGORY_LEVELS) throw tooDeep();
        const id = randomUUID();
        const slug = slugify(input.slug ?? input.name, 'category');
        const slugPath = joinSlugPath(parent, slug);
        const now = clock.now();
        const row = await insertCategory(tx, {
          id,
          parentId: parent?.id ?? null,
          slug,
          slugPath,
          path: `${parent?.path ?? '/'}${id}/`,
          depth,
          name: input.name,
          nameKo: input.nameKo ?? null,
          position: input.position ?? 0,
          createdAt: now,
          updatedAt: now,
        });
        if (!row) throw slugTaken(slugPath);
        return row;
      });
    },

    update({ id, input }) {
      return db.transaction(async (tx) => {
        if (input.slug !== undefined) await lockCategoryTree(tx);
        const current = await load(tx, id);
        const changes: CategoryChanges = {};
        if (input.name !== undefined) changes.name = input.name;
        if (input.nameKo !== undefined) changes.nameKo = input.nameKo;
        if (input.position !== undefined) changes.position = input.position;
        const now = clock.now();
        if (input.slug !== undefined) {
          const slug = slugify(input.slug, 'category');
          if (slug !== current.slug) {
            const parent = current.parentId ? await load(tx, current.parentId) : undefined;
            const slugPath = joinSlugPath(parent, slug);
            if (await findCategoryBySlugPath(tx, slugPath)) throw slugTaken(slugPath);
            // No node has slugPath, so none has a slug path under it: the rewrite cannot collide.
            await rewriteSubtree(tx, current, { path: current.path, slugPath, depthDelta: 0 }, now);
            changes.slug = slug;
          }
        }
        if (Object.keys(changes).length === 0) return current;
        await updateCategory(tx, id, { ...changes, updatedAt: now });
        return load(tx, id);
      });
    },

    move({ id, input }) {
      return db.transaction(async (tx) => {
        await lockCategoryTree(tx);
        const current = await load(tx, id);
        const parent = await loadParent(tx, input.parentId);
        if (parent?.path.startsWith(current.path)) {
          throw new AppError('category_cycle', 'A category cannot move under itself or its own descendant', {
            details: { id, parentId: parent.id },
          });
        }
        const depth = parent ? parent.depth + 1 : 0;
        const depthDelta = depth - current.depth;
        if ((await subtreeMaxDepth(tx, current.path)) + depthDelta >= MAX_CATEGORY_LEVELS) throw tooDeep();
        const slugPath = joinSlugPath(parent, current.slug);
        const now = clock.now();
        if (slugPath !== current.slugPath) {
          if (await findCategoryBySlugPath(tx, slugPath)) throw slugTaken(slugPath);
          await rewriteSubtree(
            tx,
            current,
            { path: `${parent?.path ?? '/'}${id}/`, slugPath, depthDelta },
            now,
          );
        }
        await updateCategory(tx, id, {
          parentId: parent?.id ?? null,
          position: input.position ?? current.position,
          updatedAt: now,
        });
        return load(tx, id);
      });
    },

    remove({ id }) {
      return db.transaction(async (tx) => {
        await lockCategoryTree(tx);
        await load(tx, id);
        const [children, productCount] = [
          await countChildCategories(tx, id),
          await countCategoryProducts(tx, id),
        ];
        if (children > 0 || productCount > 0) {
          throw new AppError('category_not_empty', 'Move or delete its subcategories and products first', {
            details: { children, products: productCount },
          });
        }
        await deleteCategory(tx, id);
      });
    },
  };
}
