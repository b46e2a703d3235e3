import type { AddressInfo } from 'node:net';
import { Agent as HttpsAgent } from 'node:https';

/**
 * The URL at which this process's own HTTP server answers `path` (which starts with `/`), over
 * the loopback interface when it listens on every interface; undefined when it does not listen
 * on a TCP port.
 */
export function localUrl(
  address: AddressInfo | string | null,
  secure: boolean,
  path: string,
): string | undefined {
  if (!address || typeof address === 'string') return undefined;
  const host =
    address.address === '::' || address.address === '0.0.0.0' || address.address === ''
      ? '127.0.0.1'
      : address.address;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return `${secure ? 'https' : 'http'}://${hostPart}:${address.port}${path}`;
}

export interface TestAnswer {
  status: number;
  /** The answer's text, cut at `maxChars`. */
  body: string;
}

// Our own server, reached over loopback: its certificate names the public host, never 127.0.0.1,
// so it cannot be verified here; nothing leaves the machine.
const localTls = new HttpsAgent({ rejectUnauthorized: false });

/** POSTs `body` to `url` as a sender would, and answers what came back (any status). */
export async function postTestPayload(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  timeoutMs = 10_000,
  maxChars = 8192,
): Promise<TestAnswer> {
  // Loaded when a test payload is first sent (src/core/lazy.ts: axios is heavy).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const axios = require('axios') as typeof import('axios');
  const res = await axios.post<string>(url, body, {
    headers,
    timeout: timeoutMs,
    proxy: false,
    httpsAgent: localTls,
    responseType: 'text',
    transformResponse: [(data: string) => data],
    validateStatus: () => true,
    maxRedirects: 0,
  });
  const text = typeof res.data === 'string' ? res.data : String(res.data ?? '');
  return { status: res.status, body: text.length > maxChars ? `${text.slice(0, maxChars)}…` : text };
}
