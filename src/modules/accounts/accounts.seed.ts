import { sql } from 'drizzle-orm';
import type { PlatformServices } from '../../platform/services.ts';
import { accountsContext } from './accounts.context.ts';
import type { Role } from './accounts.tables.ts';
import { users } from './accounts.tables.ts';
import { insertUser, upsertSellerProfile } from './users.repo.ts';

/** Demo accounts for a local server; documented in the README. Never created in production. */
export const DEMO_PASSWORD = 'caravan-demo-password';

const DEMO_USERS: {
  email: string;
  displayName: string;
  roles: Role[];
  locale: 'en' | 'ko';
  shop?: string;
}[] = [
  { email: 'admin@caravan.local', displayName: 'Ada Admin', roles: ['admin', 'staff'], locale: 'en' },
  { email: 'staff@caravan.local', displayName: 'Sam Staff', roles: ['staff'], locale: 'ko' },
  { email: 'buyer@caravan.local', displayName: 'Minji Buyer', roles: ['buyer'], locale: 'ko' },
  {
    email: 'seller@caravan.local',
    displayName: 'Bilal Seller',
    roles: ['buyer', 'seller'],
    locale: 'en',
    shop: 'Lahore Looms',
  },
];

export async function seedAccounts(services: PlatformServices): Promise<void> {
  if (services.config.env === 'production') return;
  const context = accountsContext(services);
  const [existing] = await services.db.select({ count: sql<number>`count(*)::int` }).from(users);
  if ((existing?.count ?? 0) > 0) return; // only into an empty database: never touch real accounts
  const passwordHash = await context.passwords.hash(DEMO_PASSWORD);
  await services.db.transaction(async (tx) => {
    for (const demo of DEMO_USERS) {
      const user = await insertUser(tx, {
        email: demo.email,
        displayName: demo.displayName,
        roles: demo.roles,
        locale: demo.locale,
        passwordHash,
        emailVerifiedAt: services.clock.now(),
      });
      if (user && demo.shop)
        await upsertSellerProfile(tx, user.id, { shopName: demo.shop, about: 'Demo shop' });
    }
  });
  services.logger.info({ accounts: DEMO_USERS.map((user) => user.email) }, 'demo accounts created');
}
