import Type, { type Static, type TSchema } from 'typebox';
import { DateTime } from '../../platform/http/schemas.ts';

/** Levels of the tree (roots are depth 0). The nested tree schema below is spelled out this deep. */
export const MAX_CATEGORY_LEVELS = 5;

const Slug = Type.String({
  minLength: 1,
  maxLength: 80,
  description: 'Normalised like a generated one (NFKC, lower case, runs of other characters → -)',
  examples: ['shoes'],
});
const Name = Type.String({ minLength: 1, maxLength: 100, examples: ['Shoes'] });
const NameKo = Type.String({ minLength: 1, maxLength: 100, examples: ['신발'] });
const Position = Type.Integer({ minimum: 0, maximum: 100_000, examples: [0] });

const SHOES = {
  id: '6b1f3c2a-8d4e-4f5a-9b6c-7d8e9f0a1b2c',
  parentId: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  slug: 'shoes',
  slugPath: 'fashion/shoes',
  path: '/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d/6b1f3c2a-8d4e-4f5a-9b6c-7d8e9f0a1b2c/',
  depth: 1,
  name: 'Shoes',
  nameKo: '신발',
  position: 0,
  createdAt: '2026-11-21T10:20:00.000Z',
  updatedAt: '2026-11-21T10:20:00.000Z',
};

const categoryFields = {
  id: Type.String({ format: 'uuid' }),
  parentId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  slug: Type.String({ examples: ['shoes'] }),
  slugPath: Type.String({ description: 'Slugs from the root, joined by /', examples: ['fashion/shoes'] }),
  path: Type.String({ description: 'Ancestor ids from the root, this one included: /a/b/' }),
  depth: Type.Integer({ minimum: 0, examples: [1] }),
  name: Type.String({ examples: ['Shoes'] }),
  nameKo: Type.Union([Type.String(), Type.Null()], { examples: ['신발'] }),
  position: Type.Integer({ examples: [0] }),
  createdAt: DateTime,
  updatedAt: DateTime,
};

export const Category = Type.Object(categoryFields, { examples: [SHOES] });

/** A node with its children, spelled out `levels` deep (serialisers and OpenAPI need no recursion). */
function treeNode(levels: number): TSchema {
  if (levels <= 1) return Type.Object({ ...categoryFields, children: Type.Array(Type.Object({})) });
  return Type.Object({ ...categoryFields, children: Type.Array(treeNode(levels - 1)) });
}

export const CategoryTree = Type.Object(
  {
    items: Type.Array(treeNode(MAX_CATEGORY_LEVELS), {
      description: 'Roots with their children, nested; a flat list of direct children with ?parent=',
    }),
  },
  {
    examples: [
      {
        items: [
          {
            ...SHOES,
            id: SHOES.parentId,
            parentId: null,
            slug: 'fashion',
            slugPath: 'fashion',
            path: `/${SHOES.parentId}/`,
            depth: 0,
            name: 'Fashion',
            nameKo: '패션',
            children: [{ ...SHOES, children: [] }],
          },
        ],
      },
    ],
  },
);

export const CategoryListQuery = Type.Object({
  parent: Type.Optional(
    Type.String({
      description: 'Only the direct children of this category (id or slug path); `root` for the roots',
      examples: ['fashion'],
    }),
  ),
});

export const CategoryIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const CategoryLookupParams = Type.Object({
  '*': Type.String({
    description: 'A category id or its slug path (fashion/shoes)',
    examples: ['fashion/shoes'],
  }),
});

export const CreateCategoryBody = Type.Object(
  {
    name: Name,
    nameKo: Type.Optional(NameKo),
    slug: Type.Optional(Slug),
    parentId: Type.Optional(Type.Union([Type.String({ format: 'uuid' }), Type.Null()])),
    position: Type.Optional(Position),
  },
  {
    additionalProperties: false,
    examples: [{ name: 'Shoes', nameKo: '신발', parentId: SHOES.parentId, position: 0 }],
  },
);

export const UpdateCategoryBody = Type.Object(
  {
    name: Type.Optional(Name),
    nameKo: Type.Optional(Type.Union([NameKo, Type.Null()])),
    slug: Type.Optional(Slug),
    position: Type.Optional(Position),
  },
  { additionalProperties: false, examples: [{ name: 'Footwear', slug: 'footwear' }] },
);

export const MoveCategoryBody = Type.Object(
  {
    parentId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], {
      description: 'The new parent; null makes it a root',
    }),
    position: Type.Optional(Position),
  },
  { additionalProperties: false, examples: [{ parentId: SHOES.parentId, position: 2 }] },
);

export type CategoryView = Static<typeof Category>;
export type CreateCategoryInput = Static<typeof CreateCategoryBody>;
export type UpdateCategoryInput = Static<typeof UpdateCategoryBody>;
export type MoveCategoryInput = Static<typeof MoveCategoryBody>;
