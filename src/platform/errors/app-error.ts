import { statusForCode } from './error-codes.ts';

export interface FieldError {
  readonly field: string;
  readonly message: string;
}

export interface AppErrorOptions {
  readonly details?: Record<string, unknown>;
  readonly fields?: readonly FieldError[];
  readonly headers?: Record<string, string>;
  readonly cause?: unknown;
}

/** The one error type services throw for an expected failure. The HTTP layer maps code → status. */
export class AppError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  readonly fields: readonly FieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options.details;
    this.fields = options.fields;
    this.headers = options.headers;
  }

  get status(): number {
    return statusForCode(this.code);
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
