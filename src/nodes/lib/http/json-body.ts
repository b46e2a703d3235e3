import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { parse as parseContentType } from 'content-type';
import iconv from 'iconv-lite';
import getRawBody from 'raw-body';
import type { HookRejection } from '../../../core/ihook.js';
import type { Refusal } from '../../../core/protect/index.js';
import { parsedInFront } from './claim.js';
import type { ClaimableRequest } from './claim.js';
import { rejectionFor } from './errors.js';

/*
 * Reading a webhook's JSON body from the raw stream our route claimed (claim.ts): raw-body reads
 * the bytes (byte limit, Content-Length, aborts), node:zlib undoes the Content-Encoding,
 * iconv-lite decodes the charset and JSON.parse parses. Or checking what a parser in front of us
 * left where the claim could not run. A failure to read carries the `type` body-parser gives it,
 * which errors.ts maps (as it maps those of a body-parser in front of us).
 */

const JSON_TYPES = new Set(['application/json', 'text/json']);

/** The Content-Encodings read (x-gzip is gzip, RFC 9110); any other is refused. */
const DECOMPRESSORS = new Map<string, () => Transform>([
  ['gzip', createGunzip],
  ['x-gzip', createGunzip],
  ['deflate', createInflate],
  ['br', createBrotliDecompress],
]);

export type JsonBody = { ok: true; value: unknown } | { ok: false; rejection: HookRejection };

/**
 * Checks a body's exact bytes before it is parsed (an endpoint's signature): given undefined when
 * the bytes are gone (parsed upstream); a refusal refuses the request.
 */
export type BodyCheck = (raw: Buffer | undefined) => Refusal | undefined;

/**
 * Reads a webhook's JSON body (application/json or text/json, UTF-8/16/32, optionally gzip,
 * deflate or br), or no body at all (= {}), refusing more than `limitBytes` of decoded body.
 * `check`, if given, judges the body's exact bytes (after Content-Encoding is undone, before the
 * charset is decoded) before they are parsed; a request without a body is checked as no bytes.
 */
export async function readJsonBody(
  req: ClaimableRequest,
  limitBytes: number,
  check?: BodyCheck,
): Promise<JsonBody> {
  if (parsedInFront(req)) return parsedUpstream(req, limitBytes, check);
  if (declaresNoBody(req)) return checked({ ok: true, value: {} }, check, Buffer.alloc(0));
  const mediaType = mediaTypeOf(req);
  if (!JSON_TYPES.has(mediaType)) {
    req.resume();
    return { ok: false, rejection: { kind: 'content-type', contentType: mediaType || '(none)' } };
  }
  const charset = charsetOf(req);
  let body: Buffer | string;
  try {
    // The check needs the bytes themselves; without one they are decoded as they arrive.
    body = await readBody(req, limitBytes, charset, check ? 'bytes' : 'text');
  } catch (err) {
    return { ok: false, rejection: rejectionFor(err, req) };
  }
  if (Buffer.isBuffer(body)) {
    const refusal = check?.(body);
    if (refusal) return { ok: false, rejection: { kind: 'refused', refusal } };
    body = iconv.decode(body, charset);
  }
  // As body-parser's non-strict JSON reader: no bytes at all (a common client mistake) are {}, and
  // any JSON value parses (`"str"`, `42`, `null` get the node's "must be a JSON object" answer).
  if (body === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch (err) {
    // The message of JSON.parse (what is wrong, and where), never a stack or a path.
    return { ok: false, rejection: { kind: 'invalid-json', detail: (err as Error).message } };
  }
}

/**
 * The body of `req` with its Content-Encoding undone, at most `limitBytes` of it, as bytes or as
 * text decoded from `charset`. Throws an error typed as body-parser types it ('charset.unsupported',
 * 'encoding.unsupported', raw-body's 'entity.too.large', 'request.aborted',
 * 'request.size.invalid'; zlib's own error, untyped, for a body its encoding does not match) once
 * the rest of the request has been read off, so that the answer follows the whole request.
 */
async function readBody(
  req: IncomingMessage,
  limitBytes: number,
  charset: string,
  as: 'bytes' | 'text',
): Promise<Buffer | string> {
  let decompressor: Transform | undefined;
  let body: Buffer | string;
  try {
    assertCharset(charset);
    decompressor = decompressorFor(req);
    const stream = decompressor ? req.pipe(decompressor) : req;
    // The Content-Length counts the bytes sent: checked only where those are the bytes read.
    const options = { limit: limitBytes, length: decompressor ? undefined : req.headers['content-length'] };
    body =
      as === 'bytes'
        ? await getRawBody(stream, options)
        : await getRawBody(stream, { ...options, encoding: charset });
  } catch (err) {
    release(req, decompressor);
    req.resume();
    await finished(req).catch(() => undefined);
    throw err;
  }
  release(req, decompressor);
  return body;
}

/** JSON is Unicode (RFC 8259): a charset not `utf-…`, or one iconv-lite does not know, is refused. */
function assertCharset(charset: string): void {
  if (!charset.startsWith('utf-') || !iconv.encodingExists(charset)) {
    throw readerError(`unsupported charset "${charset.toUpperCase()}"`, {
      type: 'charset.unsupported',
      charset,
    });
  }
}

/** The decompressor for the Content-Encoding of `req`, none for `identity`. */
function decompressorFor(req: IncomingMessage): Transform | undefined {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding === 'identity') return undefined;
  const create = DECOMPRESSORS.get(encoding);
  if (!create) {
    throw readerError(`unsupported content encoding "${encoding}"`, {
      type: 'encoding.unsupported',
      encoding,
    });
  }
  const decompressor = create();
  // A pipe passes no abort on: the decompressor, fed no more, would neither end nor fail.
  req.once('close', () => {
    if (!req.complete) decompressor.destroy(readerError('request aborted', { type: 'request.aborted' }));
  });
  return decompressor;
}

/**
 * Detaches a decompressor from `req` and discards it (its late errors, of a stream cut short, go
 * nowhere), and reads off what `req` has left after the compressed body.
 */
function release(req: IncomingMessage, decompressor: Transform | undefined): void {
  if (!decompressor) return;
  req.unpipe(decompressor);
  decompressor.on('error', () => undefined);
  decompressor.destroy();
  req.resume();
}

/** An error with the `type` (and the field with it) that errors.ts maps, as body-parser gives it. */
function readerError(message: string, fields: { type: string; charset?: string; encoding?: string }): Error {
  return Object.assign(new Error(message), fields);
}

/** `body` unless `check` refuses `raw`. */
function checked(body: JsonBody, check: BodyCheck | undefined, raw: Buffer | undefined): JsonBody {
  const refusal = check?.(raw);
  return refusal ? { ok: false, rejection: { kind: 'refused', refusal } } : body;
}

/**
 * A body read by a parser in front of ours (only where the claim could not run, see claim.ts): its
 * media type and size are checked on what that parser left. The size is that of the value
 * serialised again, a lower bound of the bytes sent (whitespace is gone), so a body the node's
 * limit refuses is refused here too unless it was mostly whitespace.
 */
function parsedUpstream(req: ClaimableRequest, limitBytes: number, check: BodyCheck | undefined): JsonBody {
  const mediaType = mediaTypeOf(req);
  if (!JSON_TYPES.has(mediaType)) {
    if (declaresNoBody(req)) return checked({ ok: true, value: {} }, check, Buffer.alloc(0));
    return { ok: false, rejection: { kind: 'content-type', contentType: mediaType || '(none)' } };
  }
  if (check) {
    // The exact bytes survive only where the upstream parser kept them: a raw (Buffer) body, or the
    // `rawBody` Buffer some set-ups add. Text was decoded (and maybe re-encoded): not the bytes sent.
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.isBuffer(req.rawBody) ? req.rawBody : undefined;
    const refusal = check(raw);
    if (refusal) return { ok: false, rejection: { kind: 'refused', refusal } };
  }
  let value: unknown = req.body;
  if (Buffer.isBuffer(value) || typeof value === 'string') {
    const text = value.toString();
    if (Buffer.byteLength(text) > limitBytes)
      return { ok: false, rejection: { kind: 'too-large', limitBytes } };
    if (text.trim() === '') return { ok: true, value: {} };
    try {
      value = JSON.parse(text);
    } catch (err) {
      return { ok: false, rejection: { kind: 'invalid-json', detail: (err as Error).message } };
    }
  }
  if (value === undefined) value = {};
  const declared = Number(req.headers['content-length']);
  if (declared > limitBytes || Buffer.byteLength(JSON.stringify(value) ?? '') > limitBytes) {
    return { ok: false, rejection: { kind: 'too-large', limitBytes } };
  }
  return { ok: true, value };
}

function mediaTypeOf(req: IncomingMessage): string {
  return parseContentType(req.headers['content-type'] ?? '', { parameters: false }).type;
}

/** The charset of a body (lower case), UTF-8 when its Content-Type names none. */
function charsetOf(req: IncomingMessage): string {
  return (parseContentType(req.headers['content-type'] ?? '').parameters.charset || 'utf-8').toLowerCase();
}

/** No Content-Length (or 0) and no Transfer-Encoding: the request has no body to judge. */
function declaresNoBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] === undefined && (length === undefined || Number(length) === 0);
}
