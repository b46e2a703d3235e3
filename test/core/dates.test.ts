import assert from 'node:assert/strict';
import { todayIn } from '../../src/core/dates.js';

describe('todayIn', () => {
  it("gives the date in the iMIS server's time zone, not the host's", () => {
    const instant = new Date('2026-05-27T02:30:00Z');
    assert.equal(todayIn('UTC', instant), '2026-05-27T00:00:00');
    assert.equal(todayIn('America/Chicago', instant), '2026-05-26T00:00:00');
    assert.equal(todayIn('Asia/Tokyo', instant), '2026-05-27T00:00:00');
  });
});
