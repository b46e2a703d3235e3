/** What the emulator's route handlers take and give back, free of node:http details. */

export interface ApiRequest {
  /** Upper-case HTTP method. */
  method: string;
  /** The URL-encoded path segment after the entity name (`/api/Party/{id}`), if any. */
  id?: string;
  query: URLSearchParams;
  /** The parsed JSON body of POST/PUT; undefined when there was none. */
  body: unknown;
  /** `http://host:port` as the client reached us, for Location headers. */
  baseUrl: string;
}

export interface Reply {
  status: number;
  /** Sent as JSON; undefined = empty body. */
  body?: unknown;
  headers?: Record<string, string>;
}
