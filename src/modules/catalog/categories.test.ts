import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCategory, createProduct } from '../../../test/factories/catalog.ts';
import { createUser, type TestUser } from '../../../test/factories/users.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';

interface CategoryJson {
  id: string;
  parentId: string | null;
  slug: string;
  slugPath: string;
  path: string;
  depth: number;
  name: string;
  children?: CategoryJson[];
}

describe('categories', () => {
  let app: TestApp;
  let staff: TestUser;
  let buyer: TestUser;

  beforeAll(async () => {
    app = await buildTestApp({ startJobs: false });
    staff = await createUser(app, { roles: ['staff'] });
    buyer = await createUser(app);
  });
  afterAll(() => app?.close());

  const post = (url: string, payload: unknown, user = staff) =>
    app.http.inject({ method: 'POST', url, payload: payload as object, headers: user.headers });

  it('staff build a tree that the public reads nested, flat by parent, and by slug path', async () => {
    const root = await post('/api/admin/categories', { name: 'Home & Garden', nameKo: '홈' });
    expect(root.statusCode).toBe(201);
    const home = root.json() as CategoryJson;
    expect(home).toMatchObject({ slug: 'home-garden', slugPath: 'home-garden', depth: 0, parentId: null });
    expect(home.path).toBe(`/${home.id}/`);

    const kitchen = (
      await post('/api/admin/categories', { name: 'Kitchen', parentId: home.id })
    ).json() as CategoryJson;
    expect(kitchen).toMatchObject({
      slugPath: 'home-garden/kitchen',
      depth: 1,
      path: `/${home.id}/${kitchen.id}/`,
    });
    const knives = (
      await post('/api/admin/categories', { name: 'Knives', parentId: kitchen.id, position: 1 })
    ).json() as CategoryJson;
    expect(knives.slugPath).toBe('home-garden/kitchen/knives');

    const tree = (await app.http.inject({ url: '/api/categories' })).json() as { items: CategoryJson[] };
    const node = tree.items.find((item) => item.id === home.id);
    expect(node?.children?.[0]?.id).toBe(kitchen.id);
    expect(node?.children?.[0]?.children?.[0]?.id).toBe(knives.id);

    const flat = (await app.http.inject({ url: `/api/categories?parent=${kitchen.id}` })).json() as {
      items: CategoryJson[];
    };
    expect(flat.items.map((item) => item.id)).toEqual([knives.id]);
    const roots = (await app.http.inject({ url: '/api/categories?parent=root' })).json() as {
      items: CategoryJson[];
    };
    expect(roots.items.map((item) => item.id)).toContain(home.id);

    const bySlug = await app.http.inject({ url: '/api/categories/home-garden/kitchen/knives' });
    expect(bySlug.statusCode).toBe(200);
    expect(bySlug.json()).toMatchObject({ id: knives.id });
    expect((await app.http.inject({ url: `/api/categories/${kitchen.id}` })).json()).toMatchObject({
      slugPath: 'home-garden/kitchen',
    });
    const missing = await app.http.inject({ url: '/api/categories/home-garden/nope' });
    expect(missing.statusCode).toBe(404);
  });

  it('a duplicate slug under the same parent is 409 category_slug_taken; under another parent it is fine', async () => {
    const a = await createCategory(app, { name: 'Dup Root A' });
    const b = await createCategory(app, { name: 'Dup Root B' });
    expect((await post('/api/admin/categories', { name: 'Tools', parentId: a.id })).statusCode).toBe(201);
    const again = await post('/api/admin/categories', { name: 'tools', parentId: a.id });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('category_slug_taken');
    expect((await post('/api/admin/categories', { name: 'Tools', parentId: b.id })).statusCode).toBe(201);
  });

  it('only staff change the tree', async () => {
    const response = await post('/api/admin/categories', { name: 'Nope' }, buyer);
    expect(response.statusCode).toBe(403);
    expect(
      (await app.http.inject({ method: 'POST', url: '/api/admin/categories', payload: { name: 'x' } }))
        .statusCode,
    ).toBe(401);
  });

  it('a reslug rewrites the slug paths of the whole subtree', async () => {
    const root = await createCategory(app, { name: 'Fashion Reslug' });
    const shoes = await createCategory(app, { name: 'Shoes', parentId: root.id });
    const boots = await createCategory(app, { name: 'Boots', parentId: shoes.id });
    const response = await app.http.inject({
      method: 'PATCH',
      url: `/api/admin/categories/${shoes.id}`,
      headers: staff.headers,
      payload: { slug: 'Footwear', name: 'Footwear' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      slug: 'footwear',
      slugPath: 'fashion-reslug/footwear',
      name: 'Footwear',
    });
    const child = (await app.http.inject({ url: `/api/categories/${boots.id}` })).json() as CategoryJson;
    expect(child.slugPath).toBe('fashion-reslug/footwear/boots');
    expect(child.path).toBe(`/${root.id}/${shoes.id}/${boots.id}/`);
  });

  it('a move rewrites path, slug path and depth of the subtree; under itself or a descendant is 409 category_cycle', async () => {
    const a = await createCategory(app, { name: 'Move A' });
    const b = await createCategory(app, { name: 'Move B' });
    const a1 = await createCategory(app, { name: 'A1', parentId: a.id });
    const a11 = await createCategory(app, { name: 'A11', parentId: a1.id });

    const move = (id: string, parentId: string | null, position?: number) =>
      post(`/api/admin/categories/${id}/move`, { parentId, ...(position === undefined ? {} : { position }) });

    for (const target of [a.id, a1.id, a11.id]) {
      const refused = await move(a.id, target);
      expect(refused.statusCode).toBe(409);
      expect(refused.json().error.code).toBe('category_cycle');
    }

    const moved = await move(a1.id, b.id, 3);
    expect(moved.statusCode).toBe(200);
    expect(moved.json()).toMatchObject({
      parentId: b.id,
      slugPath: 'move-b/a1',
      path: `/${b.id}/${a1.id}/`,
      depth: 1,
      position: 3,
    });
    const grandchild = (await app.http.inject({ url: `/api/categories/${a11.id}` })).json() as CategoryJson;
    expect(grandchild).toMatchObject({
      slugPath: 'move-b/a1/a11',
      path: `/${b.id}/${a1.id}/${a11.id}/`,
      depth: 2,
    });

    const toRoot = await move(a1.id, null);
    expect(toRoot.json()).toMatchObject({ parentId: null, slugPath: 'a1', path: `/${a1.id}/`, depth: 0 });
    const after = (await app.http.inject({ url: `/api/categories/${a11.id}` })).json() as CategoryJson;
    expect(after).toMatchObject({ slugPath: 'a1/a11', path: `/${a1.id}/${a11.id}/`, depth: 1 });
  });

  it('deleting a category with children or products is 409 category_not_empty', async () => {
    const seller = await createUser(app, { roles: ['seller'] });
    const parent = await createCategory(app, { name: 'Delete Parent' });
    const child = await createCategory(app, { name: 'Delete Child', parentId: parent.id });
    const del = (id: string) =>
      app.http.inject({ method: 'DELETE', url: `/api/admin/categories/${id}`, headers: staff.headers });

    const withChild = await del(parent.id);
    expect(withChild.statusCode).toBe(409);
    expect(withChild.json().error).toMatchObject({ code: 'category_not_empty', details: { children: 1 } });

    await createProduct(app, seller, { categoryId: child.id });
    const withProduct = await del(child.id);
    expect(withProduct.statusCode).toBe(409);
    expect(withProduct.json().error.details).toMatchObject({ products: 1 });

    const empty = await createCategory(app, { name: 'Delete Empty', parentId: parent.id });
    expect((await del(empty.id)).statusCode).toBe(204);
    expect((await app.http.inject({ url: `/api/categories/${empty.id}` })).statusCode).toBe(404);
  });

  it('keeps letters of any script in slugs', async () => {
    const ko = await createCategory(app, { name: '전자 제품' });
    expect(ko.slug).toBe('전자-제품');
    const response = await app.http.inject({ url: `/api/categories/${encodeURIComponent('전자-제품')}` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id: ko.id });
  });
});
