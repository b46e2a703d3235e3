import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TransportFailure, exchange, parseRetryAfter } from '../../src/imis/transport.js';

interface Site {
  url: string;
  close(): Promise<void>;
}

/** A server on 127.0.0.1 whose every request `handle` answers (or not). */
async function site(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<Site> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handle(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port with nothing listening on it. */
async function closedPort(): Promise<string> {
  const s = await site(() => undefined);
  await s.close();
  return s.url;
}

async function failure(promise: Promise<unknown>): Promise<TransportFailure> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TransportFailure, String(err));
    return err;
  }
  assert.fail('expected a TransportFailure');
}

describe('HTTP transport', () => {
  let s: Site | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  describe('parseRetryAfter', () => {
    const now = Date.parse('2026-05-27T09:15:00Z');

    it('reads delay-seconds', () => {
      assert.equal(parseRetryAfter('3', now), 3000);
      assert.equal(parseRetryAfter(' 7 ', now), 7000);
      assert.equal(parseRetryAfter('1.5', now), 1500);
    });

    it('reads an HTTP date as the time left until then, never negative', () => {
      assert.equal(parseRetryAfter('Wed, 27 May 2026 09:15:05 GMT', now), 5000);
      assert.equal(parseRetryAfter('Wed, 27 May 2026 09:14:00 GMT', now), 0);
      const inTen = new Date(Date.now() + 10_000).toUTCString();
      const ms = parseRetryAfter(inTen) ?? -1;
      assert.ok(ms > 8000 && ms <= 10_000, String(ms));
    });

    it('reads the .NET TimeSpan of an iDMS job status', () => {
      assert.equal(parseRetryAfter('00:00:30', now), 30_000);
      assert.equal(parseRetryAfter('00:00:05', now), 5000);
      assert.equal(parseRetryAfter('00:01:30.5', now), 90_500);
      assert.equal(parseRetryAfter('1.00:00:00', now), 86_400_000);
      assert.equal(parseRetryAfter('1.02:03:04.5', now), 93_784_500);
    });

    it('gives undefined for nothing or nonsense, bare negative numbers included', () => {
      assert.equal(parseRetryAfter(undefined, now), undefined);
      assert.equal(parseRetryAfter('', now), undefined);
      assert.equal(parseRetryAfter('soon', now), undefined);
      assert.equal(parseRetryAfter('-5', now), undefined);
    });
  });

  describe('exchange', () => {
    it('returns every status as an answer, with JSON parsed and Retry-After read', async () => {
      s = await site((_req, res) => {
        res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '00:00:30' });
        res.end('{"Message":"busy"}');
      });
      const answer = await exchange({ method: 'GET', url: `${s.url}/x`, headers: {}, timeoutMs: 5000 });
      assert.equal(answer.status, 503);
      assert.deepEqual(answer.body, { Message: 'busy' });
      assert.equal(answer.retryAfter, '00:00:30');
    });

    it('keeps a body that is not JSON as trimmed text, and an empty body as undefined', async () => {
      let text = '  <html>oops</html>\n';
      s = await site((_req, res) => {
        res.writeHead(500, { 'Content-Type': 'text/html' });
        res.end(text);
      });
      const html = await exchange({ method: 'GET', url: s.url, headers: {}, timeoutMs: 5000 });
      assert.equal(html.body, '<html>oops</html>');
      text = '';
      const empty = await exchange({ method: 'GET', url: s.url, headers: {}, timeoutMs: 5000 });
      assert.equal(empty.body, undefined);
    });

    it('sends the body and headers as given', async () => {
      let seen = '';
      s = await site((req, res) => {
        seen = `${req.method} ${req.headers['content-type']}`;
        res.writeHead(204);
        res.end();
      });
      const answer = await exchange({
        method: 'POST',
        url: s.url,
        headers: { 'Content-Type': 'application/json' },
        body: '{"a":1}',
        timeoutMs: 5000,
      });
      assert.equal(answer.status, 204);
      assert.equal(seen, 'POST application/json');
    });

    it('returns a redirect as the answer unless told to follow it', async () => {
      s = await site((req, res) => {
        if (req.url === '/from') res.writeHead(302, { Location: '/to' }).end();
        else res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"at":"to"}');
      });
      const kept = await exchange({ method: 'GET', url: `${s.url}/from`, headers: {}, timeoutMs: 5000 });
      assert.equal(kept.status, 302);
      assert.equal(kept.location, '/to');
      const followed = await exchange({
        method: 'GET',
        url: `${s.url}/from`,
        headers: {},
        timeoutMs: 5000,
        maxRedirects: 5,
      });
      assert.deepEqual(followed.body, { at: 'to' });
    });

    it('reports a server that never answers as timed out, which may have applied the request', async () => {
      s = await site(() => undefined);
      const started = Date.now();
      const err = await failure(exchange({ method: 'POST', url: s.url, headers: {}, timeoutMs: 150 }));
      assert.ok(Date.now() - started < 2000);
      assert.equal(err.timedOut, true);
      assert.equal(err.code, 'ETIMEDOUT');
      assert.equal(err.maybeApplied, true);
      assert.equal(err.notSent, false);
    });

    it('reports a refused connection as never sent', async () => {
      const url = await closedPort();
      const err = await failure(exchange({ method: 'POST', url, headers: {}, timeoutMs: 5000 }));
      assert.equal(err.code, 'ECONNREFUSED');
      assert.equal(err.notSent, true);
      assert.equal(err.maybeApplied, false);
      assert.equal(err.timedOut, false);
    });

    it('reports a connection dropped after sending as possibly applied', async () => {
      s = await site((req) => req.socket.destroy());
      const err = await failure(exchange({ method: 'POST', url: s.url, headers: {}, timeoutMs: 5000 }));
      assert.equal(err.notSent, false);
      assert.equal(err.maybeApplied, true, err.code);
    });

    it("stops at the caller's signal, reported as aborted rather than timed out", async () => {
      s = await site(() => undefined);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const err = await failure(
        exchange({ method: 'GET', url: s.url, headers: {}, timeoutMs: 5000, signal: controller.signal }),
      );
      assert.equal(err.aborted, true);
      assert.equal(err.timedOut, false);
    });
  });
});
