import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance } from 'fastify';
import mongoose from 'mongoose';
import { HttpError } from './http-error.js';
import { validationMessage } from './validation-message.js';

/** Fastify's own client errors, renamed to codes that say what went wrong. */
const fastifyCodes: Record<string, [string, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: ['INVALID_JSON', 'The request body is not valid JSON.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['INVALID_JSON', 'The request body is empty; send a JSON object.'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['BODY_TOO_LARGE', 'The request body is too large (64 KB at most).'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['UNSUPPORTED_MEDIA_TYPE', 'Send the request body as application/json.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['INVALID_CONTENT_LENGTH', 'The Content-Length header does not match the body.'],
};

function isDatabaseOutage(error: unknown): boolean {
  return error instanceof mongoose.Error.MongooseServerSelectionError
    || (error instanceof Error && ['MongoNetworkError', 'MongoServerSelectionError', 'MongoNotConnectedError', 'MongoTopologyClosedError'].includes(error.name));
}

function send(reply: import('fastify').FastifyReply, statusCode: number, code: string, message: string, extra?: Record<string, unknown>) {
  return reply.status(statusCode).send({ statusCode, error: STATUS_CODES[statusCode] ?? 'Error', code, message, ...extra });
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => send(reply, 404, 'NOT_FOUND', `There is no ${request.method} ${request.url.split('?')[0]}.`));

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpError) {
      return send(reply, error.statusCode, error.code, error.message, error.details);
    }
    if (error.validation?.[0]) {
      const { message, field } = validationMessage(error.validation[0], error.validationContext ?? 'request');
      return send(reply, 400, 'VALIDATION_FAILED', message, field ? { field } : undefined);
    }
    const known = error.code ? fastifyCodes[error.code] : undefined;
    if (known) return send(reply, error.statusCode ?? 400, known[0], known[1]);
    if (isDatabaseOutage(error)) {
      request.log.warn({ err: error }, 'database unavailable');
      reply.header('retry-after', '5');
      return send(reply, 503, 'DATABASE_UNAVAILABLE', 'The service cannot reach its database right now; try again shortly.');
    }
    if (error.statusCode && error.statusCode < 500) {
      return send(reply, error.statusCode, error.code ?? 'BAD_REQUEST', error.message);
    }
    request.log.error({ err: error }, 'request failed');
    return send(reply, 500, 'INTERNAL', 'Something went wrong on our side; it has been logged.');
  });
}
