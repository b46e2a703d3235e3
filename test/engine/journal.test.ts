import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Journal } from '../../src/engine/journal.js';
import { freshDataDir } from '../support/red.js';

const entry = (id: string, source = 'hook') => ({
  id,
  source,
  payload: { id },
  acceptedAt: '2026-01-01T00:00:00.000Z',
});

describe('Journal of accepted trigger inputs', () => {
  it('gives back, after a restart, what was accepted and not settled', () => {
    const file = join(freshDataDir(), 'journal.jsonl');
    const first = new Journal(file);
    first.open();
    first.accept(entry('a'));
    first.accept(entry('b'));
    first.settle('a');
    first.flush(); // what the 50 ms settle batch does
    // no close(): as if the process were killed
    const second = new Journal(file);
    assert.deepEqual(
      second.open().map((e) => e.id),
      ['b'],
    );
    assert.deepEqual(
      second.pendingFor('hook').map((e) => e.id),
      ['b'],
    );
    assert.deepEqual(second.pendingFor('other'), []);
    second.close();
  });

  it('runs again a run settled less than a batch before a kill (at least once, never lost)', () => {
    const file = join(freshDataDir(), 'journal.jsonl');
    const first = new Journal(file);
    first.open();
    first.accept(entry('a'));
    first.settle('a'); // not flushed yet when the process dies
    const second = new Journal(file);
    assert.deepEqual(
      second.open().map((e) => e.id),
      ['a'],
    );
    second.close();
  });

  it('survives a torn last line left by a killed process', () => {
    const file = join(freshDataDir(), 'journal.jsonl');
    const j = new Journal(file);
    j.open();
    j.accept(entry('a'));
    j.close();
    appendFileSync(file, '{"op":"accept","entry":{"id":"b"');
    const again = new Journal(file);
    assert.deepEqual(
      again.open().map((e) => e.id),
      ['a'],
    );
    again.close();
  });

  it('compacts the file to the pending entries when opened', () => {
    const file = join(freshDataDir(), 'journal.jsonl');
    writeFileSync(file, '');
    const j = new Journal(file);
    j.open();
    for (let i = 0; i < 50; i++) j.accept(entry(`r${i}`));
    for (let i = 0; i < 49; i++) j.settle(`r${i}`);
    j.close();
    const again = new Journal(file);
    again.open();
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 1);
    assert.equal(again.size, 1);
    again.close();
  });
});
