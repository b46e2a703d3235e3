import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { rejected } from '../../src/core/ihook.js';
import { readJsonBody } from '../../src/nodes/lib/http/json-body.js';
import type { JsonBody } from '../../src/nodes/lib/http/json-body.js';

/**
 * A body another parser read before ours (Node-RED embedded in an app that parses bodies itself,
 * where our claim on the body cannot run): what it left is still checked.
 */
describe('Webhook body already parsed upstream', () => {
  const parsed = (
    body: unknown,
    headers: Record<string, string> = { 'content-type': 'application/json' },
    more: Record<string, unknown> = {},
  ) =>
    // Only what readJsonBody reads of a request another parser has consumed.
    ({ _body: true, body, headers, readableEnded: true, ...more }) as unknown as Parameters<
      typeof readJsonBody
    >[0];

  it('is taken as it was parsed', async () => {
    assert.deepEqual(await readJsonBody(parsed({ a: 1 }), 1024), { ok: true, value: { a: 1 } });
  });

  it('is refused past the size limit even without a Content-Length (a chunked body)', async () => {
    const result = await readJsonBody(parsed({ data: 'x'.repeat(2000) }), 1024);
    assert.deepEqual(result, { ok: false, rejection: { kind: 'too-large', limitBytes: 1024 } });
  });

  it('is refused when it was not JSON', async () => {
    const result = await readJsonBody(
      parsed({ a: '1' }, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '3' }),
      1024,
    );
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.rejection.kind, 'content-type');
  });

  describe('with a signature to check', () => {
    const exact = Buffer.from('{"a": 1}');
    const check = (raw: Buffer | undefined) =>
      raw === undefined
        ? ({ kind: 'unverifiable' } as const)
        : raw.equals(exact)
          ? undefined
          : ({ kind: 'signature-invalid', header: 'X-Sig' } as const);

    it('checks the bytes an upstream raw parser kept (a Buffer body, or a rawBody beside it)', async () => {
      assert.deepEqual(await readJsonBody(parsed(exact), 1024, check), { ok: true, value: { a: 1 } });
      const withRaw = parsed({ a: 1 }, undefined, { rawBody: exact });
      assert.deepEqual(await readJsonBody(withRaw, 1024, check), { ok: true, value: { a: 1 } });
      const other = await readJsonBody(parsed(Buffer.from('{"a":1}')), 1024, check);
      assert.deepEqual(other, {
        ok: false,
        rejection: { kind: 'refused', refusal: { kind: 'signature-invalid', header: 'X-Sig' } },
      });
    });

    it('refuses a body parsed upstream into an object: its exact bytes are gone (500, not accepted)', async () => {
      const result = await readJsonBody(parsed({ a: 1 }), 1024, check);
      assert.deepEqual(result, {
        ok: false,
        rejection: { kind: 'refused', refusal: { kind: 'unverifiable' } },
      });
      assert.ok(!result.ok);
      assert.equal(rejected(result.rejection).status, 500);
    });
  });
});

describe('Webhook body read from the request', () => {
  it('settles as unreadable when the client closes the connection mid-way through a compressed body', async () => {
    const server = createServer();
    const reading = new Promise<{ read: Promise<JsonBody> }>((resolve) => {
      server.once('request', (req: IncomingMessage) => resolve({ read: readJsonBody(req, 1024) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const zipped = gzipSync(JSON.stringify({ data: 'x'.repeat(500) }));
      const client = request({
        host: '127.0.0.1',
        port: (server.address() as AddressInfo).port,
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Content-Encoding': 'gzip',
          'Content-Length': String(zipped.length),
        },
      });
      client.on('error', () => undefined);
      client.write(zipped.subarray(0, 10));
      const { read } = await reading;
      client.destroy();
      const result = await read;
      assert.equal(!result.ok && result.rejection.kind, 'unreadable');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
