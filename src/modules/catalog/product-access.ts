import type { DbOrTx } from '../../platform/db/types.ts';
import { AppError } from '../../platform/errors/index.ts';
import { hasRole, type Principal } from '../../platform/http/principal.ts';
import { findProduct, type ProductRow, type ProductWithCategory } from './products.repo.ts';
import type { Actor } from './products.service.ts';

/** Another seller's product answers exactly like a missing one: ids do not reveal drafts. */
export const productNotFound = () => new AppError('not_found', 'No such product');

export const isStaff = (actor: Actor | null) => hasRole(actor as Principal | null, 'staff', 'admin');

export const canManageProduct = (actor: Actor | null, product: Pick<ProductRow, 'sellerId'>) =>
  !!actor && (product.sellerId === actor.userId || isStaff(actor));

/** The product for a change to its media or reviews by `actor`: someone else's is a 404. */
export async function findManagedProduct(db: DbOrTx, actor: Actor, id: string): Promise<ProductWithCategory> {
  const product = await findProduct(db, id);
  if (!product || !canManageProduct(actor, product)) throw productNotFound();
  return product;
}

/** The product for a public read: active, or any status for its seller and staff. */
export async function findVisibleProduct(
  db: DbOrTx,
  actor: Actor | null,
  id: string,
): Promise<ProductWithCategory> {
  const product = await findProduct(db, id);
  if (!product || (product.status !== 'active' && !canManageProduct(actor, product))) throw productNotFound();
  return product;
}
