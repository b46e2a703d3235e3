import assert from 'node:assert/strict';
import { TokenRegistry, isWellFormedToken, newUrlToken } from '../../src/core/tokens.js';

describe('Secret URL tokens', () => {
  it('are 192 random bits, URL-safe, and never repeat', () => {
    const tokens = new Set(Array.from({ length: 1000 }, newUrlToken));
    assert.equal(tokens.size, 1000);
    for (const t of tokens) {
      assert.equal(Buffer.from(t, 'base64url').length, 24);
      assert.ok(isWellFormedToken(t));
    }
  });

  it('find their handler only for the exact token', () => {
    const registry = new TokenRegistry<string>();
    const token = newUrlToken();
    registry.set(token, 'node-a');
    assert.equal(registry.get(token), 'node-a');
    assert.equal(registry.get(token.slice(0, -1)), undefined);
    assert.equal(registry.get(token + 'x'), undefined);
    registry.delete(token, 'other-node');
    assert.equal(registry.get(token), 'node-a', 'a newer node keeps its registration');
    registry.delete(token, 'node-a');
    assert.equal(registry.get(token), undefined);
  });
});
