import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../../test/factories/users.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { runSeeds } from '../../app.ts';
import { DEMO_UNITS } from './inventory.seed.ts';
import {
  expectBalanced,
  inventoryTestModules,
  movementsOf,
  stockedVariants,
} from './inventory.test-support.ts';

describe('demo stock', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await buildTestApp({ modules: inventoryTestModules, startJobs: false });
  });
  afterAll(() => app?.close());

  it('gives every unstocked variant 25 units once and leaves stocked ones alone', async () => {
    const seller = await createUser(app, { roles: ['seller'] });
    const [stocked, unstocked, other] = await stockedVariants(app, seller, [3, 0, 0]);
    if (!stocked || !unstocked || !other) throw new Error('no variants');
    await runSeeds(app);
    await runSeeds(app);
    for (const variantId of [unstocked, other]) {
      expect(await expectBalanced(app, variantId)).toMatchObject({
        received: DEMO_UNITS,
        available: DEMO_UNITS,
      });
      expect(await movementsOf(app, variantId)).toMatchObject([
        {
          reason: 'receive',
          quantity: DEMO_UNITS,
          availableBefore: 0,
          availableAfter: DEMO_UNITS,
          note: 'demo seed',
        },
      ]);
    }
    expect(await expectBalanced(app, stocked)).toMatchObject({ received: 3, available: 3 });
    expect(await movementsOf(app, stocked)).toHaveLength(1);
  });
});
