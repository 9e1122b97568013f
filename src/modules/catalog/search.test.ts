import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCategory, createProduct } from '../../../test/factories/catalog.ts';
import { createUser, type TestUser } from '../../../test/factories/users.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { countStatements } from '../../../test/harness/query-counter.ts';
import { waitFor } from '../../../test/harness/wait-for.ts';
import { CONTAINING_WORDS_CAP, pruneSearchWords, resolveWords } from './search.repo.ts';
import type { SearchResultView } from './search.schemas.ts';
import { searchWords } from './search.service.ts';

describe('GET /api/search', () => {
  let app: TestApp;
  let seller: TestUser;
  const ids: Record<string, string> = {};
  let electronics: { id: string; slugPath: string };
  let audio: { id: string; slugPath: string };
  let home: { id: string; slugPath: string };

  beforeAll(async () => {
    // With the catalog caches on, as in production: changes must show through them (waits below).
    app = await buildTestApp({ startJobs: false, env: { CATALOG_CACHE_ENABLED: 'true' } });
    seller = await createUser(app, { roles: ['seller'] });
    const tag = seller.user.id.slice(0, 8);
    electronics = await createCategory(app, { name: `Electronics ${tag}` });
    audio = await createCategory(app, { name: `Audio ${tag}`, parentId: electronics.id });
    home = await createCategory(app, { name: `Home ${tag}` });
    const make = async (key: string, title: string, categoryId: string, priceMinor: number, extra = {}) => {
      ids[key] = (
        await createProduct(app, seller, { title, categoryId, priceMinor, status: 'active', ...extra })
      ).id;
    };
    await make('earbuds', 'Wireless Noise-Cancelling Earbuds', audio.id, 129_000, { brand: 'Sori' });
    await make('speaker', 'Portable Bluetooth Speaker', audio.id, 45_000);
    await make('tv', 'Smart LED Television', electronics.id, 890_000);
    await make('korean', '무선 이어폰', audio.id, 39_000);
    await make('lamp', 'Wireless Charging Desk Lamp', home.id, 8_000);
    ids.draft = (await createProduct(app, seller, { title: 'Wireless Earbuds Draft', status: 'draft' })).id;
    ids.archived = (
      await createProduct(app, seller, { title: 'Wireless Earbuds Archived', status: 'archived' })
    ).id;
  });
  afterAll(() => app?.close());

  const search = async (query: Record<string, string | number>): Promise<SearchResultView> => {
    const params = new URLSearchParams(
      Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]),
    );
    const response = await app.http.inject({ url: `/api/search?${params}` });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as SearchResultView;
  };
  const found = (result: SearchResultView) => result.items.map((item) => item.id);
  /** An active product filed under Home. */
  const makeActive = (title: string) =>
    createProduct(app, seller, { title, categoryId: home.id, status: 'active' });

  it('normalises query words like the search column (NFKD jamo, no marks)', () => {
    expect(searchWords('Café  BUDS, ab')).toEqual([
      { text: 'cafe', indexed: true },
      { text: 'buds', indexed: true },
      { text: 'ab', indexed: false },
    ]);
    expect(searchWords('이어폰')[0]?.text).toBe('이어폰'.normalize('NFKD'));
  });

  it('tolerates a typo per word and ranks the best match first', async () => {
    const result = await search({ q: 'wireles earbuds' });
    expect(found(result)[0]).toBe(ids.earbuds);
    expect(found(await search({ q: 'earbds sori' }))).toContain(ids.earbuds);
    expect(found(await search({ q: 'spekaer' }))).toEqual([ids.speaker]);
    // Transpositions break most trigrams (similarity below 0.3) but are one edit away.
    expect(found(await search({ q: 'chrgaing lmap' }))).toEqual([ids.lamp]);
    expect(found(await search({ q: 'televisoin' }))).toEqual([ids.tv]);
    // Two words match exactly, the third shares no trigram: the exact ones still retrieve it.
    expect(found(await search({ q: 'portable bluetooth xqzzyk' }))).toEqual([ids.speaker]);
  });

  it('matches substrings and the brand', async () => {
    expect(found(await search({ q: 'buds' }))).toEqual([ids.earbuds]);
    expect(found(await search({ q: 'SORI' }))).toEqual([ids.earbuds]);
    expect(found(await search({ q: 'tele' }))).toEqual([ids.tv]);
  });

  it('matches a word inside every longer word that contains it (the terms index)', async () => {
    const desktop = await makeActive('Quiet Desktop Fan');
    const deskmate = await makeActive('Bamboo Deskmate Organizer');
    const underdesk = await makeActive('Underdesk Cable Tray');
    expect(found(await search({ q: 'desk' })).sort()).toEqual(
      [ids.lamp, desktop.id, deskmate.id, underdesk.id].sort(),
    );
    expect(found(await search({ q: 'desk fan' }))).toEqual([desktop.id]);
  });

  it('finds every match, in the sample sixteenth of the catalog read first and outside it', async () => {
    const inSample = (id: string) => (Number.parseInt(id.slice(0, 2), 16) & 15) === 0;
    const made: string[] = [];
    // Ids are random: add products until both parts hold some (16 on average).
    while (made.length < 200 && !(made.some(inSample) && made.some((id) => !inSample(id)))) {
      made.push((await makeActive(`Zephyrine Kite ${made.length}`)).id);
    }
    expect(made.some(inSample) && made.some((id) => !inSample(id))).toBe(true);
    const result = await search({ q: 'zephyrine', limit: 100 });
    expect(result.matched).toBe(made.length);
    expect(found(result).sort()).toEqual([...made].sort());
  });

  it('looks a word up as terms while few vocabulary words contain it, by substring beyond that', async () => {
    const word = { text: 'vex', indexed: true };
    const containing = (count: number) => Array.from({ length: count }, (_, i) => `vex${i}`);
    const resolvedWith = async (count: number) =>
      (
        await resolveWords(
          async () => new Map([['vex', { containing: containing(count), nearest: [] }]]),
          [word],
        )
      ).get('vex');
    expect(await resolvedWith(CONTAINING_WORDS_CAP)).toMatchObject({
      exact: true,
      terms: containing(CONTAINING_WORDS_CAP),
    });
    // The lookup returns at most CAP + 1 words: "more than the cap" then matches by substring.
    expect(await resolvedWith(CONTAINING_WORDS_CAP + 1)).toMatchObject({ exact: true, terms: undefined });
    expect(await resolvedWith(0)).toMatchObject({ exact: false });
  });

  it('finds Korean titles, by word, substring and with a one-syllable typo', async () => {
    expect(found(await search({ q: '이어폰' }))).toEqual([ids.korean]);
    expect(found(await search({ q: '어폰' }))).toEqual([ids.korean]);
    expect(found(await search({ q: '이아폰' }))).toEqual([ids.korean]);
    expect(found(await search({ q: '무선 이어퐁' }))).toEqual([ids.korean]);
  });

  it('keeps the vocabulary in step: a word counts once its product is active, typos then find it', async () => {
    const vocabulary = async (word: string) =>
      (
        (await app.platform.db.execute(sql`select 1 from search_words where word = ${word}`)) as unknown as {
          rows: unknown[];
        }
      ).rows.length;
    const draft = await createProduct(app, seller, { title: 'Quokka Thermos', categoryId: home.id });
    expect(await vocabulary('quokka')).toBe(0);
    expect(found(await search({ q: 'quokka' }))).toEqual([]);
    const publish = await app.http.inject({
      method: 'POST',
      url: `/api/products/${draft.id}/publish`,
      headers: { authorization: `Bearer ${seller.accessToken}` },
    });
    expect(publish.statusCode, publish.body).toBe(200);
    expect(await vocabulary('quokka')).toBe(1);
    expect(found(await search({ q: 'qokka thermos' }))).toEqual([draft.id]);
    expect(found(await search({ q: 'quokak' }))).toEqual([draft.id]);
    const archive = await app.http.inject({
      method: 'POST',
      url: `/api/products/${draft.id}/archive`,
      headers: { authorization: `Bearer ${seller.accessToken}` },
    });
    expect(archive.statusCode, archive.body).toBe(200);
    // The word stays until the vocabulary is rebuilt; the archived product is never a match.
    expect(found(await search({ q: 'quokka' }))).toEqual([]);
  });

  it('prunes the words only archived products had, and keeps every active word', async () => {
    const vocabulary = async () =>
      (
        (await app.platform.db.execute(sql`select word from search_words`)) as unknown as {
          rows: Array<{ word: string }>;
        }
      ).rows.map((row) => row.word);
    const gone = await makeActive('Narwhal Kettle');
    expect(await vocabulary()).toContain('narwhal');
    const archive = await app.http.inject({
      method: 'POST',
      url: `/api/products/${gone.id}/archive`,
      headers: { authorization: `Bearer ${seller.accessToken}` },
    });
    expect(archive.statusCode, archive.body).toBe(200);
    const before = await vocabulary();
    const removed = await app.platform.db.transaction((tx) => pruneSearchWords(tx));
    const after = await vocabulary();
    expect(after).not.toContain('narwhal');
    // 'kettle' (another active product may have it) and every word of active titles stay.
    expect(removed).toBe(before.length - after.length);
    expect(after).toEqual(expect.arrayContaining(['wireless', 'earbuds', 'speaker', 'portable']));
    expect(found(await search({ q: 'wireles earbuds' }))[0]).toBe(ids.earbuds);
    expect(await app.platform.db.transaction((tx) => pruneSearchWords(tx))).toBe(0);
  });

  it('keeps answers and looked-up words in caches that a catalog change empties', async () => {
    const serving = async () => {
      const metric = app.platform.metrics.registry.getSingleMetric('caravan_catalog_cache_serving');
      const values = (await metric?.get())?.values ?? [];
      return ['search', 'search_words'].every(
        (cache) => values.find((value) => value.labels.cache === cache)?.value === 1,
      );
    };
    await waitFor(serving);
    const statementsOf = async (q: string) =>
      (await countStatements(app, () => app.http.inject({ url: `/api/search?q=${encodeURIComponent(q)}` })))
        .count.statements;
    // Both words unknown: the lookup says so (1 statement); the same search again: its answer is
    // kept (0). On PostgreSQL a late notification of earlier tests' writes may drop the first: again.
    await waitFor(
      async () => (await statementsOf('pelican teapot')) <= 1 && (await statementsOf('pelican teapot')) === 0,
    );
    expect(await statementsOf('Pelican,  TEAPOT')).toBe(0); // the same words, normalised
    expect(await statementsOf('teapot pelican')).toBe(0); // other order: words known, none matches
    const made = await makeActive('Pelican Teapot');
    // On PostgreSQL the change arrives on the listener's connection just after the commit.
    await waitFor(async () => found(await search({ q: 'pelican teapot' })).includes(made.id));
    // The words were looked up again by that search: the one statement of the answer only.
    expect(await statementsOf('teapot pelican')).toBe(1);
  });

  it('adds the same new words from concurrent writers without deadlock or loss', async () => {
    const words = ['zephyr', 'obsidian', 'marmalade', 'quasar', 'tundra'];
    const made = await Promise.all(
      Array.from({ length: 12 }, (_, i) => {
        // Each writer names the shared new words in its own order.
        const title = [...words.slice(i % words.length), ...words.slice(0, i % words.length)].join(' ');
        return createProduct(app, seller, { title, categoryId: home.id, status: 'active' });
      }),
    );
    expect(made).toHaveLength(12);
    const { rows } = (await app.platform.db.execute(
      sql`select word from search_words where word in (${sql.join(
        words.map((word) => sql`${word}`),
        sql`, `,
      )}) order by word`,
    )) as unknown as { rows: Array<{ word: string }> };
    expect(rows.map((row) => row.word)).toEqual([...words].sort());
    expect(found(await search({ q: 'zephir obsidian', limit: 50 })).sort()).toEqual(
      made.map((p) => p.id).sort(),
    );
  });

  it('matches a word of one or two characters (a model code) only as a whole word', async () => {
    const g2 = await makeActive('Orbit Lamp G2');
    const g20 = await makeActive('Orbit Lamp G20');
    const first = await makeActive('G2 Orbit Stand');
    // Punctuation separates words too, as in the vocabulary.
    const hyphenated = await makeActive('Orbit Clip G2-Mini');
    expect(found(await search({ q: 'orbit g2' })).sort()).toEqual([g2.id, first.id, hyphenated.id].sort());
    expect(found(await search({ q: 'orbit g20' }))).toEqual([g20.id]);
    // With two or more whole words matching, a short word that matches nothing only ranks.
    expect(found(await search({ q: 'orbit lamp g' })).sort()).toEqual([g2.id, g20.id].sort());
    expect(found(await search({ q: 'orbit g' }))).toEqual([]);
  });

  it('searches active products only', async () => {
    const result = found(await search({ q: 'wireless earbuds' }));
    expect(result).toContain(ids.earbuds);
    expect(result).not.toContain(ids.draft);
    expect(result).not.toContain(ids.archived);
  });

  it('counts matches by category and price band, and filters', async () => {
    const all = await search({ q: 'wireless' });
    expect(new Set(found(all))).toEqual(new Set([ids.earbuds, ids.lamp]));
    expect(all.matched).toBe(2);
    expect(all.capped).toBe(false);
    expect(all.facets.categories.map((c) => [c.id, c.count])).toEqual(
      expect.arrayContaining([
        [electronics.id, 1],
        [home.id, 1],
      ]),
    );
    expect(all.facets.categories).toHaveLength(2);
    const bands = Object.fromEntries(all.facets.priceBands.map((b) => [b.minPrice, b.count]));
    expect(bands).toEqual({ 0: 1, 10000: 0, 50000: 0, 100000: 1, 500000: 0 });

    const inElectronics = await search({ q: 'wireless', category: electronics.slugPath });
    expect(found(inElectronics)).toEqual([ids.earbuds]);
    // Under a filtered category the facet lists its direct children.
    expect(inElectronics.facets.categories.map((c) => [c.id, c.count])).toEqual([[audio.id, 1]]);

    expect(found(await search({ q: 'wireless', maxPrice: 10_000 }))).toEqual([ids.lamp]);
    expect(found(await search({ q: 'wireless', minPrice: 10_000, maxPrice: 200_000 }))).toEqual([
      ids.earbuds,
    ]);
  });

  it('pages through the ranked matches with a cursor', async () => {
    const first = await search({ q: 'wireless', limit: 1 });
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).not.toBeNull();
    const second = await search({ q: 'wireless', limit: 1, cursor: first.nextCursor as string });
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    expect(new Set([...found(first), ...found(second)])).toEqual(new Set([ids.earbuds, ids.lamp]));
    const bad = await app.http.inject({ url: '/api/search?q=wireless&cursor=nope' });
    expect(bad.statusCode).toBe(400);
  });

  it('answers no matches for a query without words, and validates input', async () => {
    expect((await search({ q: '!!!' })).items).toEqual([]);
    expect((await search({ q: 'zzzqqqxxx' })).items).toEqual([]);
    expect((await app.http.inject({ url: '/api/search' })).statusCode).toBe(400);
  });
});
