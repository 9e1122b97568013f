import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { runSeeds } from '../../app.ts';
import { notifyModule } from '../../platform/notify/index.ts';
import { DEMO_PASSWORD } from './accounts.seed.ts';
import { accountsModule } from './index.ts';

describe('demo data', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await buildTestApp({ modules: [notifyModule, accountsModule], startJobs: false });
  });
  afterAll(() => app?.close());

  it('creates the demo accounts once, into an empty database only', async () => {
    await runSeeds(app);
    await runSeeds(app);
    const result = (await app.platform.db.execute(
      sql`select email, roles from users order by email`,
    )) as unknown as {
      rows: { email: string; roles: string[] }[];
    };
    expect(result.rows.map((row) => row.email)).toEqual([
      'admin@caravan.local',
      'buyer@caravan.local',
      'seller@caravan.local',
      'staff@caravan.local',
    ]);
    const login = await app.http.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'seller@caravan.local', password: DEMO_PASSWORD },
    });
    expect(login.statusCode).toBe(200);
    expect(login.json().user.roles).toEqual(['buyer', 'seller']);
    const me = await app.http.inject({
      url: '/api/me',
      headers: { authorization: `Bearer ${login.json().accessToken}` },
    });
    expect(me.json().sellerProfile.shopName).toBe('Lahore Looms');
  });
});
