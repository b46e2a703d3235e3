import type { ServerResponse } from 'node:http';
import type { HookResponse } from '../../../core/ihook.js';

/** Writes an iHook answer (src/core/ihook.ts): its status and headers, and its JSON body if any. */
export function sendHookResponse(res: ServerResponse, response: HookResponse): void {
  const headers: Record<string, string> = { ...response.headers };
  if (response.body === undefined) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(response.body);
  headers['Content-Type'] = 'application/json; charset=utf-8';
  headers['Content-Length'] = String(Buffer.byteLength(text));
  res.writeHead(response.status, headers);
  res.end(text);
}
