// Registers service_busy.
import '../concurrency/limiter.ts';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type FieldError, isAppError } from '../errors/index.ts';

export interface ErrorBody {
  error: {
    code: string;
    message: string;
    requestId: string;
    fields?: readonly FieldError[];
    details?: Record<string, unknown>;
  };
}

interface AjvError {
  instancePath?: string;
  message?: string;
  params?: { missingProperty?: string; additionalProperty?: string };
}

function fieldsFromValidation(error: FastifyError): FieldError[] {
  const context = error.validationContext ?? 'body';
  return ((error.validation ?? []) as AjvError[]).map((issue) => {
    const base = (issue.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
    const extra = issue.params?.missingProperty ?? issue.params?.additionalProperty;
    const field = [context, base, extra].filter(Boolean).join('.');
    return { field, message: issue.message ?? 'is invalid' };
  });
}

/** Turns anything thrown by Fastify itself into an AppError with a stable code. */
export function toAppError(error: FastifyError): AppError {
  if (error.validation) {
    return new AppError('validation_failed', 'The request is invalid', {
      fields: fieldsFromValidation(error),
    });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', 'The request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'This content type is not accepted here');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('invalid_json', 'The request body is not valid JSON');
  }
  if (error.statusCode === 400 && error instanceof SyntaxError) {
    return new AppError('invalid_json', 'The request body is not valid JSON');
  }
  // The database pool had no free connection within its wait: overload, not a bug.
  if (error.message === 'timeout exceeded when trying to connect') {
    return new AppError('service_busy', 'The server is busy; try again in a moment', {
      headers: { 'retry-after': '1' },
    });
  }
  const status = error.statusCode ?? 500;
  if (status === 413) return new AppError('payload_too_large', 'The request body is too large');
  if (status === 429) return new AppError('rate_limited', 'Too many requests; slow down');
  if (status === 503) return new AppError('service_unavailable', 'The service is busy; try again shortly');
  if (status === 404) return new AppError('not_found', 'Not found');
  if (status === 405) return new AppError('method_not_allowed', 'Method not allowed');
  if (status >= 400 && status < 500) return new AppError('bad_request', error.message);
  return new AppError('internal_error', 'Internal server error');
}

export function sendError(request: FastifyRequest, reply: FastifyReply, appError: AppError): FastifyReply {
  const body: ErrorBody = {
    error: {
      code: appError.code,
      message: appError.message,
      requestId: String(request.id),
      ...(appError.fields ? { fields: appError.fields } : {}),
      ...(appError.details ? { details: appError.details } : {}),
    },
  };
  if (appError.headers) void reply.headers(appError.headers);
  // The route's response schema for this status (e.g. /readyz's 503) describes its own body, not
  // the error envelope: serialize errors as they are.
  return reply.status(appError.status).type('application/json').serializer(JSON.stringify).send(body);
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = isAppError(error) ? error : toAppError(error);
    if (appError.code === 'internal_error') {
      // The client sees a code and the request id; the log has the cause.
      request.log.error({ err: error }, 'request failed');
    } else {
      request.log.info({ code: appError.code, status: appError.status }, 'request refused');
    }
    return sendError(request, reply, appError);
  });
  app.setNotFoundHandler({ preHandler: undefined }, (request, reply) =>
    sendError(
      request,
      reply,
      new AppError('route_not_found', `No route for ${request.method} ${request.url}`),
    ),
  );
}
