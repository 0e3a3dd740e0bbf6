/** One error shape for the whole API: RFC 9457 problem+json. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type DomainErrorCode } from '../../domain/decider.ts';
import { WrongExpectedRevision } from '../../adapters/eventstore/port.ts';

export class HttpProblem extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'HttpProblem';
  }
}

const domainStatus: Record<DomainErrorCode, number> = { invalid: 400, not_found: 404, conflict: 409, forbidden: 403 };

const titles: Record<number, string> = {
  400: 'Bad request', 401: 'Not authenticated', 403: 'Forbidden', 404: 'Not found', 409: 'Conflict',
  413: 'Payload too large', 414: 'URI too long', 415: 'Unsupported media type', 429: 'Too many requests', 500: 'Internal error', 503: 'Unavailable',
};

export const problemSchema = {
  type: 'object',
  properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' } },
} as const;

export function sendProblem(reply: FastifyReply, status: number, code: string, detail: string): FastifyReply {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: `https://msec.dev/problems/${code}`, title: titles[status] ?? 'Error', status, detail });
}

/** What fastify's router refuses before any route or hook runs. */
export function routerProblem(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  switch (error.code) {
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return sendProblem(reply, 414, 'too-long', 'a name in the path is over 100 characters, longer than any name msec gives or takes: check the path');
    case 'FST_ERR_BAD_URL':
      return sendProblem(reply, 400, 'invalid', 'the path is not valid percent-encoding (a stray % or a cut-off UTF-8 sequence): encode names with encodeURIComponent');
    default:
      return problemHandler(error, request, reply);
  }
}

/** Maps every error the API can meet to a problem; unknown errors are logged, not leaked. */
export function problemHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof HttpProblem) return sendProblem(reply, error.status, error.code, error.message);
  if (error instanceof DomainError) return sendProblem(reply, domainStatus[error.code], error.code, error.message);
  if (error instanceof WrongExpectedRevision) return sendProblem(reply, 409, 'stale-revision', error.message);
  const fe = error as FastifyError;
  if (fe.validation) {
    const where = fe.validationContext ?? 'request';
    return sendProblem(reply, 400, 'invalid', `${where}${fe.message.startsWith(where) ? fe.message.slice(where.length) : ` ${fe.message}`}`);
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return sendProblem(reply, 413, 'too-large', `request body too large: this request takes at most ${bytesText(request.routeOptions.bodyLimit)}`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return sendProblem(reply, 415, 'media-type', 'send JSON with Content-Type: application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return sendProblem(reply, 400, 'invalid', 'the JSON body is empty: send an object');
  }
  // Read models refuse a filter they cannot apply (an unparsable instant) with a plain RangeError.
  if (error.constructor === RangeError) return sendProblem(reply, 400, 'invalid', error.message);
  if (fe.statusCode === 400 || error instanceof SyntaxError) {
    return sendProblem(reply, 400, 'invalid', `malformed request: ${error.message}`);
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) return sendProblem(reply, fe.statusCode, 'request', error.message);
  // A backend that is down for now (ClickHouse restarting, a broker away): try again later.
  if ((error as { retriable?: unknown }).retriable === true) {
    request.log.warn({ err: error }, 'a backend is unavailable');
    reply.header('retry-after', '5');
    return sendProblem(reply, 503, 'unavailable', error.message);
  }
  request.log.error({ err: error }, 'request failed');
  return sendProblem(reply, 500, 'internal', 'internal error: see the console log for details');
}

/** 2097152 → "2 MiB" (the body limits are whole KiB or MiB). */
function bytesText(n: number | undefined): string {
  if (!n) return 'the console\'s limit';
  return n >= 1 << 20 ? `${Math.round((n / (1 << 20)) * 10) / 10} MiB` : `${Math.round(n / 1024)} KiB`;
}
