import Type, { type Static } from 'typebox';
import { DateTime, NullableDateTime } from '../../platform/http/schemas.ts';

export const AVATAR_STYLE_MAX = 200;

export const GenerateAvatarBody = Type.Object(
  {
    style: Type.String({
      minLength: 1,
      maxLength: AVATAR_STYLE_MAX,
      description: 'How the avatar should look, e.g. "watercolor fox, warm colours"',
    }),
  },
  { additionalProperties: false, examples: [{ style: 'watercolor fox, warm autumn colours' }] },
);
export type GenerateAvatarBody = Static<typeof GenerateAvatarBody>;

export const AvatarJobParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const AvatarJobStatus = Type.Union([
  Type.Literal('queued'),
  Type.Literal('running'),
  Type.Literal('succeeded'),
  Type.Literal('failed'),
]);

/**
 * Why a generation failed, as stored in `avatar_jobs.error` and shown to the user. Vendor messages
 * never reach the user (they can leak prompts, model names or account details); these do.
 */
export const AVATAR_ERRORS = {
  content_rejected: 'The image service refused this style. Try describing it differently.',
  generation_failed: 'The avatar could not be generated right now. Please try again later.',
  timed_out: 'The avatar took too long to generate. Please try again.',
} as const;
export type AvatarErrorCode = keyof typeof AVATAR_ERRORS;

export const AvatarError = Type.Object({
  code: Type.String({ description: Object.keys(AVATAR_ERRORS).join(' | ') }),
  message: Type.String(),
});
export type AvatarError = Static<typeof AvatarError>;

export function avatarErrorView(code: string | null): AvatarError | null {
  if (code === null) return null;
  const known = code in AVATAR_ERRORS ? (code as AvatarErrorCode) : 'generation_failed';
  return { code: known, message: AVATAR_ERRORS[known] };
}

export const AvatarJobAccepted = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    status: AvatarJobStatus,
    statusUrl: Type.String({ description: 'Poll this until the status is succeeded or failed' }),
  },
  {
    examples: [
      {
        id: '0d5c3a4e-8f1b-4c7e-a2d9-6b1e5f3c7a90',
        status: 'queued',
        statusUrl: '/api/me/avatar/jobs/0d5c3a4e-8f1b-4c7e-a2d9-6b1e5f3c7a90',
      },
    ],
  },
);

export const AvatarJobView = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    status: AvatarJobStatus,
    style: Type.String(),
    generator: Type.Union([Type.Literal('openai'), Type.Literal('local')]),
    error: Type.Union([AvatarError, Type.Null()]),
    /** A signed download URL of the generated image, when succeeded. */
    avatarUrl: Type.Union([Type.String(), Type.Null()]),
    createdAt: DateTime,
    finishedAt: NullableDateTime,
  },
  {
    examples: [
      {
        id: '0d5c3a4e-8f1b-4c7e-a2d9-6b1e5f3c7a90',
        status: 'succeeded',
        style: 'watercolor fox, warm autumn colours',
        generator: 'openai',
        error: null,
        avatarUrl:
          'https://caravan.example.com/storage/download/avatars/4b0f9c0e-3c55-4f3e-9d8c-0b7f0c2b1a11/0d5c3a4e-8f1b-4c7e-a2d9-6b1e5f3c7a90.png?expires=1795260000&sig=…',
        createdAt: '2026-11-21T10:00:00.000Z',
        finishedAt: '2026-11-21T10:00:21.000Z',
      },
      {
        id: '0d5c3a4e-8f1b-4c7e-a2d9-6b1e5f3c7a90',
        status: 'failed',
        style: 'watercolor fox, warm autumn colours',
        generator: 'openai',
        error: { code: 'content_rejected', message: AVATAR_ERRORS.content_rejected },
        avatarUrl: null,
        createdAt: '2026-11-21T10:00:00.000Z',
        finishedAt: '2026-11-21T10:00:04.000Z',
      },
    ],
  },
);
export type AvatarJobView = Static<typeof AvatarJobView>;

export const CurrentAvatar = Type.Object(
  {
    /** A signed, expiring download URL; null when the user has no avatar. */
    avatarUrl: Type.Union([Type.String(), Type.Null()]),
    expiresAt: NullableDateTime,
  },
  {
    examples: [
      {
        avatarUrl:
          'https://caravan.example.com/storage/download/avatars/4b0f9c0e-3c55-4f3e-9d8c-0b7f0c2b1a11/0d5c3a4e-8f1b-4c7e-a2d9-6b1e5f3c7a90.png?expires=1795260000&sig=…',
        expiresAt: '2026-11-21T11:00:00.000Z',
      },
      { avatarUrl: null, expiresAt: null },
    ],
  },
);
export type CurrentAvatar = Static<typeof CurrentAvatar>;
