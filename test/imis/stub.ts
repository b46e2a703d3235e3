// A tiny purpose-built iMIS stand-in on 127.0.0.1 for client tests: real sockets, scripted answers.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Hit {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Stub {
  url: string;
  hits: Hit[];
  /** Hits whose path (without query) ends with `suffix`. */
  count(suffix: string): number;
  /** Requests being handled right now, and the most seen at once. */
  active: number;
  maxActive: number;
  close(): Promise<void>;
}

export type Handler = (hit: Hit, res: ServerResponse, req: IncomingMessage) => void | Promise<void>;

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

export const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Answers `POST .../token` like the OWIN server of docs/imis-api.md §1.2, numbering tokens t1, t2, ... */
export function tokenAnswer(res: ServerResponse, n: number, expiresIn = 1199): void {
  json(res, 200, {
    access_token: `t${n}`,
    token_type: 'bearer',
    expires_in: expiresIn,
    userName: 'MANAGER',
  });
}

export async function startStub(handler: Handler): Promise<Stub> {
  const hits: Hit[] = [];
  const stub: Stub = {
    url: '',
    hits,
    count: (suffix) => hits.filter((h) => h.path.endsWith(suffix)).length,
    active: 0,
    maxActive: 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => {
    stub.active++;
    stub.maxActive = Math.max(stub.maxActive, stub.active);
    let done = false;
    const finish = () => {
      if (!done) stub.active--;
      done = true;
    };
    res.on('close', finish);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stub');
      const hit: Hit = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      hits.push(hit);
      Promise.resolve(handler(hit, res, req)).catch((err: unknown) => {
        if (!res.headersSent) json(res, 500, { Message: String(err) });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stub;
}
