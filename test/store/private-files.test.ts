import assert from 'node:assert/strict';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite.js';
import { freshDataDir } from '../support/red.js';

describe('Files of the data folder (imis-data)', function () {
  if (process.platform === 'win32') return;
  const umask = process.umask(0o022); // the usual umask, which leaves files readable by all
  after(() => process.umask(umask));

  it('are readable by the owner only: the store and its write-ahead log', async () => {
    const dataDir = join(freshDataDir(), 'imis-data');
    const store = new SqliteStore({ file: join(dataDir, 'imis.db') });
    await store.inputs.accept({
      id: 'r1',
      source: 'hook',
      payload: { memberId: '101' },
      acceptedAt: new Date().toISOString(),
    });
    await store.exports.put({
      keyHash: 'h',
      format: 'json',
      body: Buffer.from('[]'),
      etag: '"e"',
      lastModified: new Date().toISOString(),
      rows: 0,
    });
    assert.equal(statSync(dataDir).mode & 0o777, 0o700, 'imis-data');
    const files = readdirSync(dataDir).sort();
    assert.deepEqual(files, ['imis.db', 'imis.db-shm', 'imis.db-wal']);
    for (const f of files) assert.equal(statSync(join(dataDir, f)).mode & 0o777, 0o600, f);
    await store.close();
  });

  it('stay private when an older version left the store readable by all', async () => {
    const dataDir = freshDataDir();
    const file = join(dataDir, 'imis.db');
    writeFileSync(file, '', { mode: 0o644 });
    const store = new SqliteStore({ file });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    await store.close();
  });
});
