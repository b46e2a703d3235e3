/**
 * Errors thrown by the emulator's handlers. server.ts turns each into the reply iMIS would give:
 * a ValidationError into 400 ValidateResultsData (docs/imis-api.md §2.3), an HttpError into its status
 * with an ASP.NET Web API style body `{ "Message": "..." }`.
 */

export interface Issue {
  message: string;
  propertyName?: string;
}

/** iMIS rejected the data: 400 with `Errors.$values[i].Message` (docs/imis-api.md §2.3). */
export class ValidationError extends Error {
  constructor(readonly issues: Issue[]) {
    super(issues.map((issue) => issue.message).join('; '));
    this.name = 'ValidationError';
  }
}

export function invalid(message: string, propertyName?: string): ValidationError {
  return new ValidationError([propertyName === undefined ? { message } : { message, propertyName }]);
}

/** Any other non-2xx answer. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function notFound(message: string): HttpError {
  return new HttpError(404, message);
}

export function methodNotAllowed(method: string, allow: string[]): HttpError {
  // ASP.NET Web API's own wording for an unsupported verb.
  return new HttpError(405, `The requested resource does not support http method '${method}'.`, {
    Allow: allow.join(', '),
  });
}
