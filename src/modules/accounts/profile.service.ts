import { AppError } from '../../platform/errors/index.ts';
import type { AccountsContext } from './accounts.context.ts';
import {
  findSellerProfile,
  findUserById,
  lockUserById,
  type SellerProfile,
  type User,
  updateUser,
  upsertSellerProfile,
} from './users.repo.ts';

const TIME_ZONES = new Set(Intl.supportedValuesOf('timeZone').concat('UTC'));

export interface ProfileChanges {
  readonly displayName?: string;
  readonly bio?: string;
  readonly locale?: 'en' | 'ko';
  readonly timeZone?: string;
  readonly phone?: string | null;
}

export async function getProfile(
  context: AccountsContext,
  userId: string,
): Promise<{ user: User; seller: SellerProfile | undefined }> {
  const { db } = context.services;
  const user = await findUserById(db, userId);
  if (user?.status !== 'active') throw new AppError('not_found', 'No such user');
  return { user, seller: await findSellerProfile(db, userId) };
}

/** Only the fields listed in ProfileChanges can change here: roles, email and verification cannot. */
export async function updateProfile(
  context: AccountsContext,
  userId: string,
  changes: ProfileChanges,
): Promise<User> {
  if (changes.timeZone !== undefined && !TIME_ZONES.has(changes.timeZone)) {
    throw new AppError('validation_failed', 'Unknown time zone', {
      fields: [{ field: 'body.timeZone', message: 'must be an IANA time zone such as Asia/Seoul' }],
    });
  }
  const update = {
    ...(changes.displayName !== undefined ? { displayName: changes.displayName.trim() } : {}),
    ...(changes.bio !== undefined ? { bio: changes.bio } : {}),
    ...(changes.locale !== undefined ? { locale: changes.locale } : {}),
    ...(changes.timeZone !== undefined ? { timeZone: changes.timeZone } : {}),
    ...(changes.phone !== undefined ? { phone: changes.phone } : {}),
  };
  const updated = await updateUser(context.services.db, userId, update);
  if (!updated) throw new AppError('not_found', 'No such user');
  return updated;
}

/** Opening a shop makes the user a seller as well (the C2C "both" account). */
export async function saveSellerProfile(
  context: AccountsContext,
  userId: string,
  profile: { shopName: string; about?: string },
): Promise<{ user: User; seller: SellerProfile }> {
  return context.services.db
    .transaction(async (tx) => {
      const user = await lockUserById(tx, userId);
      if (!user) throw new AppError('not_found', 'No such user');
      const seller = await upsertSellerProfile(tx, userId, {
        shopName: profile.shopName.trim(),
        ...(profile.about !== undefined ? { about: profile.about } : {}),
      });
      const roles = user.roles.includes('seller') ? user.roles : [...user.roles, 'seller' as const];
      const updated = roles === user.roles ? user : (await updateUser(tx, userId, { roles }))!;
      return { user: updated, seller };
    })
    .finally(() => context.verifier.forgetUser(userId));
}
