import type { IncomingMessage } from 'node:http';
import type { Request, Response } from 'express';
import { rejected } from '../../../core/ihook.js';
import type { HookRejection } from '../../../core/ihook.js';
import { outermostApp } from '../red.js';
import type { Red } from '../red.js';
import { HOOK_CORS, nodeCors } from './cors.js';
import { sendHookResponse } from './hook-response.js';
import { useOnce } from './routes.js';

/** What the body readers (ours, json-body.ts, with raw-body and zlib; a body-parser in front of us) put on their errors. */
interface ReaderError {
  type?: unknown;
  limit?: unknown;
  message?: unknown;
  charset?: unknown;
  encoding?: unknown;
  status?: unknown;
  statusCode?: unknown;
}

/** What a body reader's error (ours, a body-parser in front of us, raw-body, zlib, Express) means for the caller. */
export function rejectionFor(thrown: unknown, req: IncomingMessage): HookRejection {
  const err: ReaderError = typeof thrown === 'object' && thrown !== null ? thrown : {};
  switch (err.type) {
    case 'entity.too.large':
      return { kind: 'too-large', limitBytes: Number(err.limit) || 0 };
    case 'entity.parse.failed':
      // The message of JSON.parse (what is wrong, and where), never a stack or a path.
      return { kind: 'invalid-json', detail: String(err.message) };
    case 'charset.unsupported':
      return { kind: 'charset', charset: String(err.charset ?? '').toUpperCase() };
    case 'encoding.unsupported':
      return { kind: 'content-encoding', encoding: String(err.encoding ?? contentEncodingOf(req)) };
    case 'request.aborted':
      return { kind: 'unreadable', reason: 'the connection closed before the body was complete' };
    case 'request.size.invalid':
      return { kind: 'unreadable', reason: 'its length does not match its Content-Length' };
  }
  // Express could not decode a `%` escape of the path: no token can match it.
  if (thrown instanceof URIError) return { kind: 'unknown-url' };
  const encoding = contentEncodingOf(req);
  // A decompression error (zlib's, with no type): the body is not what its Content-Encoding says.
  if (encoding !== 'identity') return { kind: 'encoding-mismatch', encoding };
  const status = Number(err.status ?? err.statusCode);
  if (status >= 400 && status < 500) return { kind: 'unreadable', reason: 'the request was malformed' };
  return { kind: 'server', detail: 'could not read the request' };
}

function contentEncodingOf(req: IncomingMessage): string {
  return String(req.headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase();
}

/**
 * Answers any error raised for a request to our endpoints with iHook's JSON instead of Express's
 * HTML page (stack trace and server paths included): mounted at the end of the outermost Express
 * app, which every error of a sub-app (the editor's, the flows') reaches. `answer` records and
 * sends the rejection (default: sends it).
 */
export function mountHookErrorHandler(
  RED: Red,
  prefix: string,
  answer: (req: Request, res: Response, rejection: HookRejection) => void = (_req, res, r) =>
    sendHookResponse(res, rejected(r)),
): void {
  const app = outermostApp(RED.httpNode);
  const needle = prefix.toLowerCase();
  const withCors = nodeCors(RED, HOOK_CORS);
  useOnce(app, `hook-errors ${prefix}`, (err: unknown, req: Request, res, next) => {
    const path = String(req.originalUrl ?? req.url ?? '')
      .split('?', 1)[0]
      .toLowerCase();
    if (!path.includes(needle) || res.headersSent) return next(err);
    req.resume();
    const send = () => answer(req, res, rejectionFor(err, req));
    if (withCors) withCors(req, res, send);
    else send();
  });
}
