/**
 * `POST /token`, the OAuth2 password grant of Asi.Scheduler's OWIN server (docs/imis-api.md §1), and the
 * bearer check of every `/api` call (§1.3).
 */
import { HttpError, methodNotAllowed } from './errors.js';
import type { Reply } from './http.js';
import type { EmulatorState } from './state.js';

// OWIN token responses are never cached.
const NO_CACHE = { 'Cache-Control': 'no-cache', Pragma: 'no-cache', Expires: '-1' };

function tokenError(error: string, description?: string): Reply {
  const body: Record<string, string> = { error };
  if (description !== undefined) body.error_description = description;
  return { status: 400, body, headers: NO_CACHE };
}

/** Form fields by lower-case key: official collections send `grant_type` and `Grant_type` alike (docs/imis-api.md §1.1). */
function formFields(rawBody: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(rawBody)) {
    const lower = key.toLowerCase();
    if (!fields.has(lower)) fields.set(lower, value);
  }
  return fields;
}

export function tokenRoute(
  state: EmulatorState,
  method: string,
  rawBody: string,
  now: number = Date.now(),
): Reply {
  if (method !== 'POST') throw methodNotAllowed(method, ['POST']);
  const fields = formFields(rawBody);
  // Only the password grant: refresh_token needs an SSO client application, client_credentials is unsupported.
  if (fields.get('grant_type') !== 'password') return tokenError('unsupported_grant_type');
  const username = fields.get('username') ?? '';
  const password = fields.get('password') ?? '';
  // iMIS user names ignore case; passwords do not.
  const user = state.config.users.find(
    (candidate) =>
      candidate.username.toLowerCase() === username.toLowerCase() && candidate.password === password,
  );
  // OWIN's default wording (docs/imis-api.md §1.2).
  if (user === undefined || username === '') {
    return tokenError('invalid_grant', 'The user name or password is incorrect.');
  }
  const issued = state.issueToken(user.username, now);
  return {
    status: 200,
    headers: NO_CACHE,
    body: {
      access_token: issued.token,
      token_type: 'bearer',
      expires_in: Math.max(0, Math.floor(state.config.tokenTtlSeconds)),
      userName: user.username,
      '.issued': new Date(issued.issuedAt).toUTCString(),
      '.expires': new Date(issued.expiresAt).toUTCString(),
    },
  };
}

/** Throws the 401 of a missing, unknown or expired bearer token; returns the user name otherwise. */
export function authenticate(state: EmulatorState, authorization: string | undefined): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  const user = match === null ? undefined : state.tokenUser(match[1]);
  if (user === undefined) {
    // ASP.NET Web API's [Authorize] answer.
    throw new HttpError(401, 'Authorization has been denied for this request.', {
      'WWW-Authenticate': 'Bearer',
    });
  }
  return user;
}
