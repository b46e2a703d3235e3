import assert from 'node:assert/strict';
import { acceptDeliveries } from '../../src/runs/deliveries.js';
import type { SeenIds } from '../../src/runs/deliveries.js';

describe('Accepting a delivery of events (at least once)', () => {
  const at = new Date('2026-06-01T10:00:00Z');
  const event = (id: string, eventType = 'Party.Updated') => ({ id, eventType });

  /** Seen ids in memory, with when each expires. */
  function memory(): SeenIds & { ids: Map<string, Date> } {
    const ids = new Map<string, Date>();
    return {
      ids,
      mark: async (id, expiresAt) => {
        if (ids.has(id)) return false;
        ids.set(id, expiresAt);
        return true;
      },
      forget: async (id) => {
        ids.delete(id);
      },
    };
  }

  it('accepts each matching event once, and counts copies and filtered events', async () => {
    const seen = memory();
    const accepted: string[] = [];
    const options = {
      matches: (type: string) => type.startsWith('Party.'),
      seen,
      rememberMs: 24 * 3600_000,
      accept: async (e: { id: string }) => {
        accepted.push(e.id);
      },
    };
    const first = await acceptDeliveries([event('a'), event('b', 'Event.Updated'), event('a')], at, options);
    assert.deepEqual(first, { accepted: 1, duplicates: 1, filtered: 1 });
    const retry = await acceptDeliveries([event('a'), event('c')], at, options);
    assert.deepEqual(retry, { accepted: 1, duplicates: 1, filtered: 0 });
    assert.deepEqual(accepted, ['a', 'c']);
    assert.deepEqual(seen.ids.get('a'), new Date('2026-06-02T10:00:00Z'), 'remembered for rememberMs');
  });

  it('runs every copy when no ids are remembered', async () => {
    const counts = await acceptDeliveries([event('a'), event('a')], at, {
      matches: () => true,
      rememberMs: 1000,
      accept: async () => undefined,
    });
    assert.deepEqual(counts, { accepted: 2, duplicates: 0, filtered: 0 });
  });

  it('forgets an event it could not accept, so that the retry is not taken for a copy', async () => {
    const seen = memory();
    let fail = true;
    const options = {
      matches: () => true,
      seen,
      rememberMs: 1000,
      accept: async () => {
        if (fail) throw new Error('store down');
      },
    };
    await assert.rejects(acceptDeliveries([event('a')], at, options), /store down/);
    assert.equal(seen.ids.has('a'), false);
    fail = false;
    assert.deepEqual(await acceptDeliveries([event('a')], at, options), {
      accepted: 1,
      duplicates: 0,
      filtered: 0,
    });
  });
});
