import Type, { type Static } from 'typebox';
import { DateTime } from '../../platform/http/schemas.ts';
import { MODEL_FORMATS } from './model-checks.ts';

/** 50 MB: a detailed product scan; the configured STORAGE_MAX_UPLOAD_BYTES can only lower it. */
export const MODEL_MAX_BYTES = 50 * 1024 * 1024;

const EXAMPLE_PRODUCT = '3c9e2b7a-5d1f-4e8a-b6c4-2a7d9e1f3b5c';
const EXPIRES = '2026-11-21T11:20:00.000Z';

export const ModelParams = Type.Object({
  id: Type.String({ format: 'uuid' }),
  format: Type.Enum(MODEL_FORMATS, { description: 'glb (Android, web) or usdz (iOS AR Quick Look)' }),
});

export const ModelUploadBody = Type.Object(
  {
    sizeBytes: Type.Integer({
      minimum: 1,
      maximum: MODEL_MAX_BYTES,
      description: 'The file size; the upload URL refuses more',
      examples: [2_400_000],
    }),
  },
  { additionalProperties: false, examples: [{ sizeBytes: 2_400_000 }] },
);

export const PresignedUploadView = Type.Object({
  url: Type.String({ format: 'uri' }),
  method: Type.Literal('PUT'),
  headers: Type.Record(Type.String(), Type.String(), {
    description: 'Send exactly these headers with the PUT',
  }),
  expiresAt: DateTime,
  maxBytes: Type.Integer(),
});

export const ModelUpload = Type.Object(
  {
    format: Type.Enum(MODEL_FORMATS),
    status: Type.Literal('pending', { description: 'The state of this upload until it is confirmed' }),
    replacing: Type.Boolean({
      description:
        'true when a ready model of this format exists: it stays served until this upload is confirmed, and stays if this upload is refused',
    }),
    upload: PresignedUploadView,
  },
  {
    examples: [
      {
        format: 'glb',
        status: 'pending',
        replacing: true,
        upload: {
          url: `https://caravan.example/storage/upload/products/${EXAMPLE_PRODUCT}/models/glb-1.glb?exp=…`,
          method: 'PUT',
          headers: { 'content-type': 'model/gltf-binary' },
          expiresAt: EXPIRES,
          maxBytes: 2_400_000,
        },
      },
    ],
  },
);

const MODEL_EXAMPLE = {
  format: 'glb',
  contentType: 'model/gltf-binary',
  sizeBytes: 2_400_000,
  url: `https://caravan.example/storage/download/products/${EXAMPLE_PRODUCT}/models/glb-1.glb?exp=…`,
  expiresAt: EXPIRES,
  updatedAt: '2026-11-21T10:20:00.000Z',
  replacementPending: false,
};

export const Model = Type.Object(
  {
    format: Type.Enum(MODEL_FORMATS),
    contentType: Type.String({ examples: ['model/gltf-binary'] }),
    sizeBytes: Type.Integer({ minimum: 0 }),
    url: Type.String({ format: 'uri', description: 'A signed download URL; expires at expiresAt' }),
    expiresAt: DateTime,
    updatedAt: DateTime,
    replacementPending: Type.Boolean({
      description: 'A newer upload of this format awaits confirmation; this file is served until then',
    }),
  },
  { examples: [MODEL_EXAMPLE] },
);

export const ModelList = Type.Object(
  { items: Type.Array(Model, { description: 'Ready models, at most one per format' }) },
  { examples: [{ items: [MODEL_EXAMPLE] }] },
);

export type ModelParamsValue = Static<typeof ModelParams>;
export type ModelView = Static<typeof Model>;
export type ModelUploadView = Static<typeof ModelUpload>;
