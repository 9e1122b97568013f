import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProduct } from '../factories/catalog.ts';
import { addToCart, appWithSeller, placeOrder, stockedVariant, TEST_ADDRESS } from '../factories/commerce.ts';
import { createUser, type SendArgs, sendAs, type TestUser } from '../factories/users.ts';
import type { TestApp } from '../harness/build-test-app.ts';
import { countStatements, type StatementCount } from '../harness/query-counter.ts';

/*
 * How many SQL statements the hot endpoints issue (Saleor's query-count tests): a change that adds
 * a query per product, line or order fails here. The counts are the same on PGlite and PostgreSQL
 * (both run drizzle's statements one by one; BEGIN/COMMIT are statements on both). Job workers run
 * during every measurement (checkout enqueues emails) and are not counted: see query-counter.ts.
 *
 * Authenticated requests: the access-token verifier caches a session's state for 5 s and batches
 * the lookups of concurrent requests, so the first request of a session costs one more statement
 * than the next ones. `measure` makes a warm-up request as the user first, so the counts below are
 * of a warm session; the cold case is pinned on its own.
 */

let app: TestApp;
let seller: TestUser;
beforeAll(async () => {
  ({ app, seller } = await appWithSeller());
});
afterAll(() => app?.close());

/** The statements, one per line: the message of a failing count. */
const listed = (count: StatementCount) => `${count.statements} statements:\n${count.texts.join('\n')}`;

/** One request, counted, after a warm-up request that caches the user's session. */
async function measure(...args: SendArgs) {
  const user = args[2];
  if (user) expect((await sendAs(app, 'GET', '/api/me', user)).statusCode).toBe(200);
  const { result: response, count } = await countStatements(app, () => sendAs(app, ...args));
  return { response, count };
}

const checkoutBody = { shippingAddress: TEST_ADDRESS };

describe('the statement counter', () => {
  it('counts what the block runs and nothing that runs beside it', async () => {
    // Background work started outside the block (as job workers are) keeps querying meanwhile.
    let background = 0;
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        await app.platform.db.execute(sql`select 1 as background`);
        background++;
        // PGlite answers without I/O: yield, or this loop would starve the timers.
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    try {
      const { count } = await countStatements(app, async () => {
        await app.platform.db.execute(sql`select 1 as mine`);
        await app.platform.db.transaction(async (tx) => {
          await tx.execute(sql`select 2 as mine`);
        });
        // Let the background loop run while the block is open.
        const seen = background;
        while (background < seen + 3) await new Promise((resolve) => setTimeout(resolve, 5));
      });
      expect(count.texts).toEqual([
        'select 1 as mine',
        expect.stringMatching(/^begin$/i),
        'select 2 as mine',
        expect.stringMatching(/^commit$/i),
      ]);
      expect(count).toMatchObject({ statements: 4, transactionControl: 2, transactions: 1 });
    } finally {
      stop = true;
      await loop;
    }
  });
});

describe('statements per request', () => {
  it('GET /api/products?limit=20 (anonymous, a full page): 1', async () => {
    for (let i = 0; i < 21; i++) await createProduct(app, seller, { status: 'active' });
    const { response, count } = await measure('GET', '/api/products?limit=20');
    expect(response.statusCode).toBe(200);
    expect(response.json().items).toHaveLength(20);
    expect(response.json().nextCursor).toEqual(expect.any(String));
    expect(count.statements, listed(count)).toBe(1);
  });

  it('GET /api/products/:id (anonymous, 3 variants): 1', async () => {
    const product = await createProduct(app, seller, {
      status: 'active',
      variants: [{ title: 'S' }, { title: 'M' }, { title: 'L' }],
    });
    const { response, count } = await measure('GET', `/api/products/${product.id}`);
    expect(response.statusCode).toBe(200);
    expect(response.json().variants).toHaveLength(3);
    expect(count.statements, listed(count)).toBe(1);
  });

  it('GET /api/search: 2 statements and no transaction, however many products match, typo or not', async () => {
    // The vocabulary lookup of every word (exact? nearest words?), then one statement for the
    // ranked candidates with their facet buckets and the page's products with their variants. A
    // typo takes the same 2 (the
    // misspelt word is replaced by its stand-ins in the candidates query); a misspelt word with no
    // stand-in stops after the lookup (1); the rarer fallbacks (exact words that retrieve nothing
    // together) add 1 candidates query.
    await createProduct(app, seller, { status: 'active', title: 'Walnut lonely-tray' });
    for (let i = 0; i < 6; i++)
      await createProduct(app, seller, { status: 'active', title: `Walnut crowd-bowl ${i}` });
    const one = await measure('GET', '/api/search?q=lonely');
    const six = await measure('GET', '/api/search?q=crowd');
    const typo = await measure('GET', '/api/search?q=lonley');
    expect(one.response.json().items).toHaveLength(1);
    expect(six.response.json().items).toHaveLength(6);
    expect(typo.response.json().items).toHaveLength(1);
    for (const { count } of [one, six, typo]) {
      expect(count.statements, listed(count)).toBe(2);
      expect(count.transactions).toBe(0);
      expect(count.transactionControl).toBe(0);
    }
    const none = await measure('GET', '/api/search?q=zzzqqq');
    expect(none.response.json().items).toHaveLength(0);
    expect(none.count.statements, listed(none.count)).toBe(1);
  });

  it('GET /api/cart: 3 (cart, lines with products, stock), 1 line or 3', async () => {
    const counts: number[] = [];
    for (const lines of [1, 3]) {
      const buyer = await createUser(app);
      for (let i = 0; i < lines; i++)
        await addToCart(app, buyer, (await stockedVariant(app, { seller })).variantId);
      const { response, count } = await measure('GET', '/api/cart', buyer);
      expect(response.statusCode).toBe(200);
      expect(response.json().lines).toHaveLength(lines);
      expect(count.statements, listed(count)).toBe(3);
      counts.push(count.statements);
    }
    expect(counts).toEqual([3, 3]);
  });

  it('POST /api/checkout refused for stock: 1 (the cart-stock read)', async () => {
    const { variantId } = await stockedVariant(app, { seller, units: 1 });
    const late = await createUser(app);
    await addToCart(app, late, variantId);
    await placeOrder(app, variantId); // another buyer holds the last unit
    const { response, count } = await measure('POST', '/api/checkout', late, checkoutBody);
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe('out_of_stock');
    expect(count.statements, listed(count)).toBe(1);
    expect(count.texts[0]).toMatch(/from "carts" inner join "cart_lines"/);
  });

  it('POST /api/checkout placed: 16 + one stock hold per distinct variant, in 2 transactions', async () => {
    // Constant 16: stock read, lockout check, cart, cart lines, idempotency lookup with the buyer
    // (email, name, language: read once, for the order and its email); transaction 1 (BEGIN,
    // attempt claimed with the cart's earlier unpaid orders, order + all lines + timeline event in
    // one insert, 2 job inserts (email, in-app notice), payment, COMMIT); transaction 2 after the
    // provider call (BEGIN, payment ids, attempt answer, COMMIT). What grows: holdStock takes one
    // conditional UPDATE (stock row + hold + movement in one CTE) per distinct variant, in variant
    // id order, each checking `available >= quantity` and locking its row until COMMIT
    // (inventory/stock-holds.ts). Quantities do not count: 3 units of one variant are one hold.
    const cases = [
      { variants: 1, quantity: 1 },
      { variants: 1, quantity: 3 },
      { variants: 5, quantity: 1 },
    ];
    for (const { variants, quantity } of cases) {
      const buyer = await createUser(app);
      for (let i = 0; i < variants; i++) {
        await addToCart(app, buyer, (await stockedVariant(app, { seller })).variantId, quantity);
      }
      const { response, count } = await measure('POST', '/api/checkout', buyer, checkoutBody);
      expect(response.statusCode, response.body).toBe(201);
      expect(count.statements, listed(count)).toBe(16 + variants);
      expect(count.transactions).toBe(2);
      expect(count.transactionControl).toBe(4);
      expect(
        count.texts.filter((text) => /^with guard as \(.*\), s as \( update stock_levels/i.test(text)),
      ).toHaveLength(variants);
    }
  });

  it('GET /api/orders: 1, with 2 orders or 10', async () => {
    const variants: string[] = [];
    for (let i = 0; i < 10; i++) variants.push((await stockedVariant(app, { seller, units: 5 })).variantId);
    const counts: number[] = [];
    for (const orders of [2, 10]) {
      // Each checkout adds a variant to the same cart, so the earlier unpaid order is cancelled as
      // superseded: the history mixes statuses and line counts (1 to 10 lines).
      const buyer = await createUser(app);
      for (const variantId of variants.slice(0, orders)) await placeOrder(app, variantId, { buyer });
      const { response, count } = await measure('GET', '/api/orders', buyer);
      expect(response.statusCode).toBe(200);
      expect(response.json().items).toHaveLength(orders);
      expect(count.statements, listed(count)).toBe(1);
      counts.push(count.statements);
    }
    expect(counts).toEqual([1, 1]);
  });

  it('a session not yet cached costs 1 more statement (the batched session lookup)', async () => {
    const buyer = await createUser(app);
    const cold = await countStatements(app, () => sendAs(app, 'GET', '/api/orders', buyer));
    const warm = await countStatements(app, () => sendAs(app, 'GET', '/api/orders', buyer));
    expect(cold.count.statements, listed(cold.count)).toBe(2);
    expect(cold.count.texts[0]).toMatch(/from "sessions" inner join "users"/);
    expect(warm.count.statements, listed(warm.count)).toBe(1);
  });
});
