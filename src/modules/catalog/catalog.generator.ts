import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { inArray, sql } from 'drizzle-orm';
import { vacuumAnalyze } from '../../platform/db/migrator.ts';
import { CommandError, type ModuleCommand } from '../../platform/module.ts';
import type { PlatformServices } from '../../platform/services.ts';
import { users } from '../accounts/accounts.tables.ts';
import { createPasswordHasher } from '../accounts/passwords.ts';
import { categories } from './catalog.tables.ts';
import { slugify } from './slug.ts';

/**
 * A realistic demo catalog at any size (`caravan seed-catalog --products N`, or
 * `caravan seed --products N`): a two-level category tree in English and Korean, demo sellers,
 * and N active products with English or Korean titles built from word lists, brands, attributes
 * and 1–3 variants with unique SKUs. Products go in with multi-row INSERTs of BATCH rows (JSON
 * recordsets, so the same SQL runs on PostgreSQL and PGlite) on a few connections at once, then
 * VACUUM ANALYZE. Every run adds N more products (slugs and SKUs carry a run tag); categories and
 * sellers are reused when present.
 */

export const DEMO_SELLER_PASSWORD = 'caravan-demo-password';
const SELLER_COUNT = 30;
const BATCH = 5_000;

type Pair = readonly [en: string, ko: string];

const CATEGORY_TREE: ReadonlyArray<{ name: Pair; children: readonly Pair[] }> = [
  {
    name: ['Electronics', '전자제품'],
    children: [
      ['Audio', '오디오'],
      ['Phones', '휴대폰'],
      ['Computers', '컴퓨터'],
      ['Cameras', '카메라'],
    ],
  },
  {
    name: ['Fashion', '패션'],
    children: [
      ['Shoes', '신발'],
      ['Bags', '가방'],
      ['Outerwear', '아우터'],
      ['Accessories', '액세서리'],
    ],
  },
  {
    name: ['Home', '홈'],
    children: [
      ['Furniture', '가구'],
      ['Lighting', '조명'],
      ['Bedding', '침구'],
      ['Storage', '수납'],
    ],
  },
  {
    name: ['Kitchen', '주방'],
    children: [
      ['Cookware', '조리도구'],
      ['Appliances', '주방가전'],
      ['Tableware', '식기'],
      ['Coffee', '커피'],
    ],
  },
  {
    name: ['Beauty', '뷰티'],
    children: [
      ['Skincare', '스킨케어'],
      ['Makeup', '메이크업'],
      ['Haircare', '헤어케어'],
    ],
  },
  {
    name: ['Sports', '스포츠'],
    children: [
      ['Fitness', '피트니스'],
      ['Outdoor', '아웃도어'],
      ['Cycling', '자전거'],
    ],
  },
  {
    name: ['Toys', '완구'],
    children: [
      ['Building Blocks', '블록'],
      ['Puzzles', '퍼즐'],
      ['Dolls', '인형'],
    ],
  },
  {
    name: ['Crafts', '공예'],
    children: [
      ['Textiles', '직물'],
      ['Ceramics', '도자기'],
      ['Woodwork', '목공예'],
    ],
  },
];

/** Nouns per top-level category (English, Korean). */
const NOUNS: Record<string, readonly Pair[]> = {
  Electronics: [
    ['Earbuds', '이어폰'],
    ['Headphones', '헤드폰'],
    ['Speaker', '스피커'],
    ['Smartphone', '스마트폰'],
    ['Laptop', '노트북'],
    ['Keyboard', '키보드'],
    ['Mouse', '마우스'],
    ['Monitor', '모니터'],
    ['Camera', '카메라'],
    ['Charger', '충전기'],
    ['Tablet', '태블릿'],
    ['Smartwatch', '스마트워치'],
  ],
  Fashion: [
    ['Sneakers', '운동화'],
    ['Boots', '부츠'],
    ['Backpack', '백팩'],
    ['Tote Bag', '토트백'],
    ['Jacket', '재킷'],
    ['Coat', '코트'],
    ['Scarf', '스카프'],
    ['Wallet', '지갑'],
    ['Belt', '벨트'],
    ['Sunglasses', '선글라스'],
  ],
  Home: [
    ['Sofa', '소파'],
    ['Desk Lamp', '스탠드'],
    ['Chair', '의자'],
    ['Bookshelf', '책장'],
    ['Blanket', '담요'],
    ['Pillow', '베개'],
    ['Rug', '러그'],
    ['Curtain', '커튼'],
    ['Storage Box', '수납함'],
  ],
  Kitchen: [
    ['Frying Pan', '프라이팬'],
    ['Pot', '냄비'],
    ['Kettle', '주전자'],
    ['Blender', '블렌더'],
    ['Coffee Grinder', '커피그라인더'],
    ['Mug', '머그컵'],
    ['Plate Set', '접시세트'],
    ['Knife', '칼'],
    ['Toaster', '토스터'],
  ],
  Beauty: [
    ['Moisturizer', '보습크림'],
    ['Serum', '세럼'],
    ['Sunscreen', '선크림'],
    ['Lipstick', '립스틱'],
    ['Shampoo', '샴푸'],
    ['Hair Dryer', '헤어드라이어'],
    ['Cleanser', '클렌저'],
  ],
  Sports: [
    ['Yoga Mat', '요가매트'],
    ['Dumbbell', '아령'],
    ['Running Shoes', '러닝화'],
    ['Tent', '텐트'],
    ['Helmet', '헬멧'],
    ['Water Bottle', '물병'],
    ['Bicycle', '자전거'],
  ],
  Toys: [
    ['Block Set', '블록세트'],
    ['Jigsaw Puzzle', '직소퍼즐'],
    ['Plush Doll', '봉제인형'],
    ['Robot Kit', '로봇키트'],
    ['Board Game', '보드게임'],
  ],
  Crafts: [
    ['Shawl', '숄'],
    ['Vase', '꽃병'],
    ['Tea Bowl', '찻사발'],
    ['Cutting Board', '도마'],
    ['Quilt', '퀼트'],
    ['Basket', '바구니'],
  ],
};

const ADJECTIVES: readonly Pair[] = [
  ['Wireless', '무선'],
  ['Portable', '휴대용'],
  ['Premium', '프리미엄'],
  ['Compact', '컴팩트'],
  ['Ergonomic', '인체공학'],
  ['Waterproof', '방수'],
  ['Lightweight', '초경량'],
  ['Handmade', '수제'],
  ['Organic', '유기농'],
  ['Vintage', '빈티지'],
  ['Classic', '클래식'],
  ['Smart', '스마트'],
  ['Foldable', '접이식'],
  ['Rechargeable', '충전식'],
  ['Eco-Friendly', '친환경'],
  ['Noise-Cancelling', '노이즈캔슬링'],
  ['Heavy-Duty', '헤비듀티'],
  ['Minimalist', '미니멀'],
  ['Luxury', '럭셔리'],
  ['Outdoor', '아웃도어'],
  ['Ceramic', '세라믹'],
  ['Wooden', '원목'],
  ['Leather', '가죽'],
  ['Stainless', '스테인리스'],
  ['Bamboo', '대나무'],
  ['Magnetic', '자석'],
  ['Cordless', '코드리스'],
  ['Insulated', '보온'],
  ['Breathable', '통기성'],
  ['Adjustable', '조절식'],
];

const BRANDS = [
  'Sori',
  'Hanbit',
  'Nuri',
  'Arirang',
  'Mirae',
  'Daon',
  'Haneul',
  'Bora',
  'Saebyeok',
  'Gaon',
  'Lahore Looms',
  'Indus Craft',
  'Northwind',
  'Acme',
  'Bluepeak',
  'Cedar & Co',
  'Driftwood',
  'Everlane',
  'Foxglove',
  'Granite',
  'Harbor',
  'Ironleaf',
  'Juniper',
  'Kestrel',
  'Lumen',
  'Maple',
  'Nimbus',
  'Orchid',
  'Pebble',
  'Quill',
  'Riverstone',
  'Summit',
  'Tundra',
  'Umber',
  'Vela',
  'Willow',
  'Yonder',
  'Zephyr',
] as const;

const COLORS: readonly Pair[] = [
  ['Black', '블랙'],
  ['White', '화이트'],
  ['Navy', '네이비'],
  ['Gray', '그레이'],
  ['Beige', '베이지'],
  ['Red', '레드'],
  ['Green', '그린'],
];
const MATERIALS = [
  'cotton',
  'aluminium',
  'steel',
  'oak',
  'silicone',
  'wool',
  'leather',
  'glass',
  'polyester',
];

/** Deterministic per index (mulberry32), so runs are comparable. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rand: () => number, list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;

export interface GeneratorOptions {
  readonly products: number;
  /** Connections inserting at once (PostgreSQL; PGlite runs one statement at a time anyway). */
  readonly concurrency?: number;
  readonly seed?: number;
  /** Progress on stderr (`\r` updates); off in tests. */
  readonly progress?: boolean;
  readonly vacuum?: boolean;
}

export interface GeneratorResult {
  readonly products: number;
  readonly variants: number;
  readonly categories: number;
  readonly sellers: number;
  readonly runTag: string;
  readonly insertMs: number;
  readonly vacuumMs: number;
}

interface LeafCategory {
  readonly id: string;
  readonly top: string;
}

async function ensureCategories(services: PlatformServices): Promise<LeafCategory[]> {
  const { db } = services;
  const wanted: Array<{
    slugPath: string;
    parentSlugPath: string | null;
    name: Pair;
    position: number;
    top: string;
  }> = [];
  CATEGORY_TREE.forEach((top, i) => {
    const topSlug = slugify(top.name[0], 'category');
    wanted.push({ slugPath: topSlug, parentSlugPath: null, name: top.name, position: i, top: top.name[0] });
    top.children.forEach((child, j) => {
      wanted.push({
        slugPath: `${topSlug}/${slugify(child[0], 'category')}`,
        parentSlugPath: topSlug,
        name: child,
        position: j,
        top: top.name[0],
      });
    });
  });
  const existing = async () =>
    new Map(
      (
        await db
          .select({ id: categories.id, slugPath: categories.slugPath, path: categories.path })
          .from(categories)
          .where(
            inArray(
              categories.slugPath,
              wanted.map((w) => w.slugPath),
            ),
          )
      ).map((row) => [row.slugPath, row]),
    );
  let known = await existing();
  const now = services.clock.now();
  for (const entry of wanted) {
    if (known.has(entry.slugPath)) continue;
    const parent = entry.parentSlugPath ? known.get(entry.parentSlugPath) : undefined;
    const id = randomUUID();
    await db
      .insert(categories)
      .values({
        id,
        parentId: parent?.id ?? null,
        slug: entry.slugPath.split('/').at(-1) as string,
        slugPath: entry.slugPath,
        path: `${parent?.path ?? '/'}${id}/`,
        depth: parent ? 1 : 0,
        name: entry.name[0],
        nameKo: entry.name[1],
        position: entry.position,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing();
    known = await existing();
  }
  return wanted
    .filter((entry) => entry.parentSlugPath !== null)
    .map((entry) => ({ id: (known.get(entry.slugPath) as { id: string }).id, top: entry.top }));
}

async function ensureSellers(services: PlatformServices): Promise<string[]> {
  const { db } = services;
  const emails = Array.from({ length: SELLER_COUNT }, (_, i) => `seller${i + 1}@demo.caravan.local`);
  const passwordHash = await createPasswordHasher(services.config.auth.argon2).hash(DEMO_SELLER_PASSWORD);
  const now = services.clock.now();
  await db
    .insert(users)
    .values(
      emails.map((email, i) => ({
        email,
        displayName: `Demo Seller ${i + 1}`,
        roles: ['buyer' as const, 'seller' as const],
        locale: i % 2 === 0 ? ('en' as const) : ('ko' as const),
        passwordHash,
        emailVerifiedAt: now,
      })),
    )
    .onConflictDoNothing();
  const rows = await db.select({ id: users.id }).from(users).where(inArray(users.email, emails));
  return rows.map((row) => row.id);
}

interface ProductJson {
  id: string;
  seller_id: string;
  category_id: string;
  slug: string;
  title: string;
  description: string;
  brand: string;
  attributes: Record<string, unknown>;
  currency: string;
  min_price_minor: number;
  rating_count: number;
  rating_sum: number;
  created_at: string;
}
interface VariantJson {
  id: string;
  product_id: string;
  sku: string;
  title: string;
  options: Record<string, string>;
  price_minor: number;
  currency: string;
  position: number;
}

/** Product `index` of a run: the same index always gives the same product (bar ids and tag). */
export function makeProduct(
  index: number,
  context: {
    seed: number;
    runTag: string;
    leaves: readonly LeafCategory[];
    sellers: readonly string[];
    now: number;
  },
): { product: ProductJson; variants: VariantJson[] } {
  const rand = random(context.seed * 1_000_003 + index);
  const leaf = pick(rand, context.leaves);
  const noun = pick(rand, NOUNS[leaf.top] ?? NOUNS.Electronics!);
  const first = pick(rand, ADJECTIVES);
  let second = pick(rand, ADJECTIVES);
  if (second === first) second = ADJECTIVES[(ADJECTIVES.indexOf(first) + 1) % ADJECTIVES.length] as Pair;
  const brand = pick(rand, BRANDS);
  const model = `${String.fromCharCode(65 + Math.floor(rand() * 26))}${1 + Math.floor(rand() * 99)}`;
  const english = `${first[0]} ${second[0]} ${noun[0]} ${model}`;
  const korean = `${first[1]} ${second[1]} ${noun[1]} ${model}`;
  const isKorean = rand() < 0.3;
  const title = isKorean ? korean : english;
  const currency = isKorean || rand() < 0.5 ? 'KRW' : 'USD';
  // Log-uniform prices: KRW 3,000–3,000,000; USD 3–3,000 (in cents).
  const base = Math.round(3_000 * 1000 ** rand());
  const price = currency === 'KRW' ? Math.round(base / 100) * 100 : base * 100 - 1;
  const id = randomUUID();
  const variantCount = 1 + Math.floor(rand() * 3);
  const variants: VariantJson[] = [];
  for (let v = 0; v < variantCount; v++) {
    const color = COLORS[(index + v) % COLORS.length] as Pair;
    variants.push({
      id: randomUUID(),
      product_id: id,
      sku: `${context.runTag}-${index.toString(36).toUpperCase()}-${v + 1}`,
      title: isKorean ? color[1] : color[0],
      options: { color: color[0] },
      price_minor: price + v * (currency === 'KRW' ? 1_000 : 500),
      currency,
      position: v,
    });
  }
  const ratingCount = rand() < 0.6 ? Math.floor(rand() * 200) : 0;
  return {
    product: {
      id,
      seller_id: pick(rand, context.sellers),
      category_id: leaf.id,
      slug: `${slugify(english, 'product')}-${context.runTag}-${index.toString(36)}`,
      title,
      description: `${english}. ${korean}. Made by ${brand}.`,
      brand,
      attributes: {
        material: pick(rand, MATERIALS),
        warrantyMonths: pick(rand, [0, 6, 12, 24]),
        altTitle: isKorean ? english : korean,
      },
      currency,
      min_price_minor: price,
      rating_count: ratingCount,
      rating_sum: ratingCount === 0 ? 0 : Math.round(ratingCount * (3 + rand() * 2)),
      created_at: new Date(context.now - Math.floor(rand() * 365 * 86_400_000)).toISOString(),
    },
    variants,
  };
}

const INSERT_PRODUCTS = `insert into products (id, seller_id, category_id, slug, title, description, brand,
    attributes, status, currency, min_price_minor, rating_count, rating_sum, created_at, updated_at, published_at)
  select id, seller_id, category_id, slug, title, description, brand, attributes, 'active', currency,
    min_price_minor, rating_count, rating_sum, created_at, created_at, created_at
  from json_to_recordset($1::json) as x(id uuid, seller_id uuid, category_id uuid, slug text, title text,
    description text, brand text, attributes jsonb, currency text, min_price_minor bigint,
    rating_count int, rating_sum int, created_at timestamptz)`;

const INSERT_VARIANTS = `insert into product_variants (id, product_id, sku, title, options, price_minor, currency, position)
  select id, product_id, sku, title, options, price_minor, currency, position
  from json_to_recordset($1::json) as x(id uuid, product_id uuid, sku text, title text, options jsonb,
    price_minor bigint, currency text, position int)`;

/** The statement with its `$1` bound to the rows as one JSON text parameter. */
function withJson(statement: string, rows: readonly object[]) {
  const [before, after] = statement.split('$1') as [string, string];
  return sql`${sql.raw(before)}${JSON.stringify(rows)}${sql.raw(after)}`;
}

function progressLine(done: number, total: number, startedAt: number): string {
  const seconds = (performance.now() - startedAt) / 1000;
  const rate = done / Math.max(seconds, 0.001);
  const eta = rate > 0 ? (total - done) / rate : 0;
  const width = 30;
  const filled = Math.round((done / total) * width);
  return `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} products  ${Math.round(rate)}/s  ETA ${Math.ceil(eta)}s `;
}

export async function generateCatalog(
  services: PlatformServices,
  options: GeneratorOptions,
): Promise<GeneratorResult> {
  const total = options.products;
  const embedded = services.database.kind === 'pglite';
  const concurrency = embedded ? 1 : Math.max(1, options.concurrency ?? 3);
  const leaves = await ensureCategories(services);
  const sellers = await ensureSellers(services);
  const runTag = randomUUID().slice(0, 6).toUpperCase();
  const context = { seed: options.seed ?? 1, runTag, leaves, sellers, now: services.clock.now().getTime() };
  const startedAt = performance.now();
  const batchSize = embedded ? 1_000 : BATCH;
  let next = 0;
  let done = 0;
  let variantsDone = 0;
  const report = () => {
    if (options.progress) process.stderr.write(progressLine(done, total, startedAt));
  };
  const worker = async () => {
    while (next < total) {
      const from = next;
      const to = Math.min(total, from + batchSize);
      next = to;
      const productRows: ProductJson[] = [];
      const variantRows: VariantJson[] = [];
      for (let index = from; index < to; index++) {
        const made = makeProduct(index, context);
        productRows.push(made.product);
        variantRows.push(...made.variants);
      }
      // One transaction per batch: a product is never visible without its variants.
      await services.db.transaction(async (tx) => {
        await tx.execute(withJson(INSERT_PRODUCTS, productRows));
        await tx.execute(withJson(INSERT_VARIANTS, variantRows));
      });
      done += to - from;
      variantsDone += variantRows.length;
      report();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (options.progress) process.stderr.write('\n');
  const insertMs = performance.now() - startedAt;
  const vacuumStarted = performance.now();
  if (options.vacuum !== false) await vacuumAnalyze(services.database);
  return {
    products: done,
    variants: variantsDone,
    categories: leaves.length + CATEGORY_TREE.length,
    sellers: sellers.length,
    runTag,
    insertMs: Math.round(insertMs),
    vacuumMs: Math.round(performance.now() - vacuumStarted),
  };
}

/** `caravan seed-catalog --products N [--concurrency C] [--seed S]` (also `caravan seed --products N`). */
export const seedCatalogCommand: ModuleCommand = {
  summary: 'generate a demo catalog: seed-catalog --products N [--concurrency 3] [--seed 1]',
  async run(services, args) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        products: { type: 'string', default: '1000' },
        concurrency: { type: 'string', default: '3' },
        seed: { type: 'string', default: '1' },
      },
    });
    const count = Number(values.products);
    const concurrency = Number(values.concurrency);
    const seed = Number(values.seed);
    if (!Number.isInteger(count) || count < 1)
      throw new CommandError('--products must be a positive integer');
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new CommandError('--concurrency must be a positive integer');
    if (!Number.isInteger(seed)) throw new CommandError('--seed must be an integer');
    const result = await generateCatalog(services, { products: count, concurrency, seed, progress: true });
    console.log(
      `catalog generated: ${result.products} products, ${result.variants} variants, ${result.categories} categories, ` +
        `${result.sellers} sellers in ${(result.insertMs / 1000).toFixed(1)} s (+ ${(result.vacuumMs / 1000).toFixed(1)} s VACUUM ANALYZE)`,
    );
  },
};
