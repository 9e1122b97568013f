import Type, { type Static } from 'typebox';
import { IMAGE_CONTENT_TYPES } from './image-checks.ts';
import { PresignedUploadView } from './models.schemas.ts';

/** 10 MB per image; the configured STORAGE_MAX_UPLOAD_BYTES can only lower it. */
export const IMAGE_MAX_BYTES = 10 * 1024 * 1024;

const EXAMPLE = {
  product: '3c9e2b7a-5d1f-4e8a-b6c4-2a7d9e1f3b5c',
  image: '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0',
};
const AltText = Type.String({ maxLength: 500, examples: ['White earbuds in their open charging case'] });

export const ImageParams = Type.Object({
  id: Type.String({ format: 'uuid' }),
  imageId: Type.String({ format: 'uuid' }),
});

export const ImageUploadBody = Type.Object(
  {
    contentType: Type.Enum(IMAGE_CONTENT_TYPES, { examples: ['image/webp'] }),
    sizeBytes: Type.Integer({ minimum: 1, maximum: IMAGE_MAX_BYTES, examples: [480_000] }),
    altText: Type.Optional(AltText),
  },
  {
    additionalProperties: false,
    examples: [
      { contentType: 'image/webp', sizeBytes: 480_000, altText: 'White earbuds in their open charging case' },
    ],
  },
);

const IMAGE_EXAMPLE = {
  id: EXAMPLE.image,
  status: 'ready',
  contentType: 'image/webp',
  altText: 'White earbuds in their open charging case',
  position: 0,
  url: `https://caravan.example/storage/download/products/${EXAMPLE.product}/images/${EXAMPLE.image}?exp=…`,
};

export const Image = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    status: Type.Enum(['pending', 'ready'], { description: 'pending until the upload is confirmed' }),
    contentType: Type.String({ examples: ['image/webp'] }),
    altText: Type.String(),
    position: Type.Integer({ minimum: 0 }),
    url: Type.Union([Type.String({ format: 'uri' }), Type.Null()], {
      description: 'A signed download URL once ready (it expires; read again for a fresh one)',
    }),
  },
  { examples: [IMAGE_EXAMPLE] },
);

export const ImageUpload = Type.Object(
  {
    image: Image,
    upload: PresignedUploadView,
  },
  {
    examples: [
      {
        image: { ...IMAGE_EXAMPLE, status: 'pending' },
        upload: {
          url: `https://caravan.example/storage/upload/products/${EXAMPLE.product}/images/${EXAMPLE.image}?exp=…`,
          method: 'PUT',
          headers: { 'content-type': 'image/webp' },
          expiresAt: '2026-11-21T11:20:00.000Z',
          maxBytes: 480_000,
        },
      },
    ],
  },
);

export const ImageList = Type.Object(
  { items: Type.Array(Image, { description: 'Ready images in display order' }) },
  { examples: [{ items: [IMAGE_EXAMPLE] }] },
);

export const UpdateImageBody = Type.Object(
  {
    altText: Type.Optional(AltText),
    position: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 10_000, description: 'New index in the display order' }),
    ),
  },
  { additionalProperties: false, examples: [{ altText: 'Earbuds, side view', position: 0 }] },
);

export const ReorderImagesBody = Type.Object(
  {
    imageIds: Type.Array(Type.String({ format: 'uuid' }), {
      maxItems: 200,
      description: 'Every ready image of the product, each once, in the new order',
    }),
  },
  { additionalProperties: false, examples: [{ imageIds: [EXAMPLE.image] }] },
);

/** What product reads show: ready images only. */
export const ProductImage = Type.Object({
  id: Type.String({ format: 'uuid' }),
  url: Type.String({ format: 'uri' }),
  contentType: Type.String(),
  altText: Type.String(),
  position: Type.Integer({ minimum: 0 }),
});

export type ImageView = Static<typeof Image>;
export type ImageUploadView = Static<typeof ImageUpload>;
export type ImageUploadInput = Static<typeof ImageUploadBody>;
export type UpdateImageInput = Static<typeof UpdateImageBody>;
export type ProductImageView = Static<typeof ProductImage>;
