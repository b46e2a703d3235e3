import type { IncomingMessage } from 'node:http';
import { markRequestMetadata } from './redact.js';

/** Request metadata for a "Metadata Output Property" (iWorkflow: host and headers). */
export function requestMetadata(req: IncomingMessage, receivedAt: Date): Record<string, unknown> {
  // Marked so that what is stored of a run has the caller's secret headers redacted (redact.ts).
  return markRequestMetadata({
    host: req.headers.host,
    method: req.method,
    path: (req.url ?? '').replace(/\/[A-Za-z0-9_-]{32,}(?=[/?]|$)/, '/<token>'),
    headers: { ...req.headers },
    remoteAddress: req.socket.remoteAddress,
    receivedAt: receivedAt.toISOString(),
  });
}
