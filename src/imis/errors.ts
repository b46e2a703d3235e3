import { STATUS_CODES } from 'node:http';
import { ExpectedError } from '../core/errors.js';
import { collectionItems, isRecord } from './json-net.js';

/**
 * What went wrong, as a user would fix it:
 * - `rejected`: iMIS refused the data (400/409/422); the message carries iMIS's own text.
 * - `auth`: bad credentials, expired/refused token, or missing permission (401/403, token errors).
 * - `not-found`: unknown record, entity or endpoint (404), often a wrong ID or base URL.
 * - `network`: iMIS could not be reached (connection refused, reset, DNS, ...).
 * - `timeout`: iMIS did not answer within the configured time.
 * - `http`: any other unexpected answer (5xx, 429 after all retries, redirects, non-JSON).
 */
export type ImisErrorKind = 'rejected' | 'auth' | 'network' | 'timeout' | 'http' | 'not-found';

export interface ImisErrorDetails {
  status?: number;
  imisMessages?: string[];
  body?: unknown;
  method?: string;
  path?: string;
  /** System error code of a network failure, e.g. `ECONNREFUSED`. */
  code?: string;
  cause?: unknown;
}

export class ImisError extends ExpectedError {
  override name = 'ImisError';
  kind: ImisErrorKind;
  status?: number;
  /** iMIS's own messages, verbatim (empty when iMIS sent none). */
  imisMessages: string[];
  body?: unknown;
  method?: string;
  path?: string;
  code?: string;

  constructor(kind: ImisErrorKind, message: string, details: ImisErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = kind;
    this.status = details.status;
    this.imisMessages = details.imisMessages ?? [];
    this.body = details.body;
    this.method = details.method;
    this.path = details.path;
    this.code = details.code;
  }
}

function texts(values: unknown[]): string[] {
  return values.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => v.trim());
}

/**
 * The human-readable messages in an iMIS error body, verbatim and in order:
 * - `Errors.$values[].Message` of a ValidateResultsData (docs/imis-api.md §2.3);
 * - `error_description` (or `error`) of an OWIN token error (docs/imis-api.md §1.2);
 * - ASP.NET Web API `Message` / `ExceptionMessage` / `ModelState` of other failures;
 * - a short plain-text body (never an HTML error page).
 */
export function imisMessagesFrom(body: unknown): string[] {
  if (typeof body === 'string') {
    const text = body.trim();
    if (text === '' || text.startsWith('<') || text.length > 1000) return [];
    return [text];
  }
  if (!isRecord(body)) return [];

  const validation = texts((collectionItems(body.Errors) ?? []).map((e) => (isRecord(e) ? e.Message : e)));
  if (validation.length > 0) return validation;

  if (typeof body.error_description === 'string' && body.error_description.trim() !== '') {
    return [body.error_description.trim()];
  }

  const messages = texts([body.Message, body.ExceptionMessage]);
  if (isRecord(body.ModelState)) {
    for (const value of Object.values(body.ModelState)) messages.push(...texts(collectionItems(value) ?? []));
  }
  if (messages.length > 0) return [...new Set(messages)];

  return texts([body.message, body.error]);
}

export function statusText(status: number): string {
  const text = STATUS_CODES[status];
  return text ? `${status} ${text}` : String(status);
}

/** Turns a non-2xx answer of `/api/...` into an ImisError a user can act on. */
export function errorFromResponse(method: string, path: string, status: number, body: unknown): ImisError {
  const imisMessages = imisMessagesFrom(body);
  const said = imisMessages.join('; ');
  const details = { status, imisMessages, body, method, path };
  const what = `${method} ${path}`;
  if (status === 400 || status === 409 || status === 422) {
    return new ImisError(
      'rejected',
      said ? `iMIS rejected ${what}: ${said}` : `iMIS rejected ${what} (${statusText(status)})`,
      details,
    );
  }
  if (status === 401) {
    return new ImisError(
      'auth',
      `iMIS refused the access token for ${what} (${statusText(status)}) even after signing in again` +
        (said ? `: ${said}` : ': check the user and its rights on the iMIS site'),
      details,
    );
  }
  if (status === 403) {
    return new ImisError(
      'auth',
      `The iMIS user may not ${what} (${statusText(status)})` +
        (said ? `: ${said}` : ': give the user the rights it needs in iMIS'),
      details,
    );
  }
  if (status === 404) {
    return new ImisError(
      'not-found',
      `iMIS found nothing at ${what} (${statusText(status)})` +
        (said ? `: ${said}` : ': check the ID, the entity name and the base URL'),
      details,
    );
  }
  if (status >= 300 && status < 400) {
    return new ImisError(
      'http',
      `iMIS redirected ${what} (${statusText(status)}): use the address it redirects to as the base URL`,
      details,
    );
  }
  return new ImisError(
    'http',
    `iMIS answered ${statusText(status)} to ${what}` + (said ? `: ${said}` : ''),
    details,
  );
}

/** Turns a failed `POST /token` into an ImisError (docs/imis-api.md §1.2: OWIN `invalid_grant` & co). */
export function errorFromTokenResponse(
  tokenUrl: string,
  username: string,
  status: number,
  body: unknown,
): ImisError {
  const imisMessages = imisMessagesFrom(body);
  const said = imisMessages.join('; ');
  const details = { status, imisMessages, body, method: 'POST', path: '/token' };
  const grantError = isRecord(body) && typeof body.error === 'string' ? body.error : undefined;
  if (status === 400 || status === 401 || status === 403 || grantError) {
    return new ImisError(
      'auth',
      `iMIS refused the sign-in of user "${username}"` +
        (said ? `: ${said}` : ` (${grantError ?? statusText(status)})`),
      details,
    );
  }
  if (status === 404) {
    return new ImisError(
      'not-found',
      `No iMIS token endpoint at ${tokenUrl} (${statusText(status)}): the base URL must be the iMIS site root, ` +
        'e.g. https://yourorg.imiscloud.com',
      details,
    );
  }
  if (status >= 300 && status < 400) {
    return new ImisError(
      'http',
      `iMIS redirected the sign-in at ${tokenUrl} (${statusText(status)}): use the address it redirects to as the base URL`,
      details,
    );
  }
  return new ImisError(
    'http',
    `iMIS answered ${statusText(status)} to the sign-in at ${tokenUrl}` + (said ? `: ${said}` : ''),
    details,
  );
}

/**
 * Whether a failure may pass if the same work is tried again later: iMIS unreachable or slow
 * (network, timeout), busy (429) or failing on its side (5xx). Refused data, bad credentials and
 * unknown records fail again the same way.
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof ImisError) {
    if (err.kind === 'network' || err.kind === 'timeout') return true;
    return err.kind === 'http' && err.status !== undefined && (err.status === 429 || err.status >= 500);
  }
  return err instanceof Error && err.name === 'TransportFailure';
}
