export { AppError, type AppErrorOptions, type FieldError, isAppError } from './app-error.ts';
export { listErrorCodes, type PlatformErrorCode, registerErrorCodes, statusForCode } from './error-codes.ts';
