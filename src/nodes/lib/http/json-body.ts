import type { IncomingMessage, ServerResponse } from 'node:http';
import { json } from 'body-parser';
import { parse as parseContentType } from 'content-type';
import type { HookRejection } from '../../../core/ihook.js';
import type { Refusal } from '../../../core/protect/index.js';
import { parsedInFront } from './claim.js';
import type { ClaimableRequest } from './claim.js';
import { RefusedBody, rejectionFor } from './errors.js';

/*
 * Reading a webhook's JSON body from the raw stream our route claimed (claim.ts), with
 * body-parser's JSON reader, or checking what a parser in front of us left where the claim could
 * not run.
 */

const JSON_TYPES = new Set(['application/json', 'text/json']);

export type JsonBody = { ok: true; value: unknown } | { ok: false; rejection: HookRejection };

/**
 * Checks a body's exact bytes before it is parsed (an endpoint's signature): given undefined when
 * the bytes are gone (parsed upstream); a refusal refuses the request.
 */
export type BodyCheck = (raw: Buffer | undefined) => Refusal | undefined;

/** Where a request being read by a checking parser carries its check (body-parser calls `verify`). */
const BODY_CHECK = Symbol('imis body check');

type CheckedRequest = ClaimableRequest & {
  /** The body check of a request read by a checking parser (see jsonParser). */
  [BODY_CHECK]?: BodyCheck;
};

/**
 * body-parser's JSON reader per byte limit, with and without a body check; the media type is
 * checked before (see readJsonBody). The checking one has body-parser keep the body's bytes as a
 * Buffer for its `verify` hook (the one it decodes from): no copy is made, and readers without a
 * check keep decoding straight to text. The readers hold no state: one per limit is made once.
 */
const parsers = {
  plain: new Map<number, ReturnType<typeof json>>(),
  checked: new Map<number, ReturnType<typeof json>>(),
};

function jsonParser(limitBytes: number, checked: boolean): ReturnType<typeof json> {
  const cache = checked ? parsers.checked : parsers.plain;
  let parser = cache.get(limitBytes);
  if (!parser) {
    // strict: false so that `"str"`, `42` or `null` parse and get the caller-facing "must be a
    // JSON object" answer from the node rather than a parser message.
    parser = json({
      limit: limitBytes,
      strict: false,
      type: () => true,
      verify: checked
        ? (req, _res, raw) => {
            const refusal = (req as CheckedRequest)[BODY_CHECK]?.(raw);
            if (refusal) throw new RefusedBody(refusal);
          }
        : undefined,
    });
    cache.set(limitBytes, parser);
  }
  return parser;
}

/**
 * Reads a webhook's JSON body (application/json or text/json, UTF-8/16/32, optionally gzip,
 * deflate or br), or no body at all (= {}), refusing more than `limitBytes` of decoded body.
 * `check`, if given, judges the body's exact bytes (after Content-Encoding is undone, before the
 * charset is decoded) before they are parsed.
 */
export async function readJsonBody(
  req: CheckedRequest,
  res: ServerResponse,
  limitBytes: number,
  check?: BodyCheck,
): Promise<JsonBody> {
  if (parsedInFront(req)) return parsedUpstream(req, limitBytes, check);
  const mediaType = mediaTypeOf(req);
  if (!JSON_TYPES.has(mediaType)) {
    if (declaresNoBody(req)) return checked({ ok: true, value: {} }, check, Buffer.alloc(0));
    req.resume();
    return { ok: false, rejection: { kind: 'content-type', contentType: mediaType || '(none)' } };
  }
  if (check) req[BODY_CHECK] = check;
  const error = await new Promise<unknown>((resolve) =>
    jsonParser(limitBytes, Boolean(check))(req, res, resolve),
  );
  if (error) return { ok: false, rejection: rejectionFor(error, req) };
  return { ok: true, value: req.body === undefined ? {} : req.body };
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

/** No Content-Length (or 0) and no Transfer-Encoding: the request has no body to judge. */
function declaresNoBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] === undefined && (length === undefined || Number(length) === 0);
}
