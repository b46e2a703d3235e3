import assert from 'node:assert/strict';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PublishedStore } from '../../src/engine/export.js';
import { Journal } from '../../src/engine/journal.js';
import { RunHistory, RunTracker } from '../../src/engine/runs.js';
import { writeStateFile } from '../../src/engine/state-file.js';
import { freshDataDir } from '../support/red.js';

/** Every directory and file below `dir`, with its permission bits. */
function modes(dir: string): { path: string; mode: number; isDir: boolean }[] {
  const found: { path: string; mode: number; isDir: boolean }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    found.push({ path, mode: stat.mode & 0o777, isDir: stat.isDirectory() });
    if (stat.isDirectory()) found.push(...modes(path));
  }
  return found;
}

describe('Files of the data folder (imis-data)', function () {
  if (process.platform === 'win32') return;
  const umask = process.umask(0o022); // the usual umask, which leaves files readable by all
  after(() => process.umask(umask));

  it('are readable by the owner only: journal, run history, state files and exports', () => {
    const dataDir = join(freshDataDir(), 'imis-data');
    const journal = new Journal(join(dataDir, 'journal.jsonl'));
    journal.open();
    journal.accept({
      id: 'r1',
      source: 'hook',
      payload: { memberId: '101' },
      acceptedAt: new Date().toISOString(),
    });
    journal.close();
    const history = new RunHistory(join(dataDir, 'runs.jsonl'), 10, 0);
    history.load();
    const tracker = new RunTracker({ onSettled: (run) => history.append(run) });
    tracker.start({ id: 'r1', flowId: 'tab', trigger: { id: 'hook', type: 'imis-webhook-in' }, input: {} });
    tracker.release('r1');
    history.close();
    writeStateFile(join(dataDir, 'cron', 'node1.json'), { enabled: true });
    writeStateFile(join(dataDir, 'change-in', 'node2.seen.json'), [['event-1', 1]]);
    new PublishedStore(join(dataDir, 'exports')).publish('key', 'json', [{ email: 'a@example.org' }]);

    const found = [{ path: dataDir, mode: statSync(dataDir).mode & 0o777, isDir: true }, ...modes(dataDir)];
    assert.deepEqual(
      found.filter((f) => f.isDir).map((f) => f.path.slice(dataDir.length) || '/'),
      ['/', '/change-in', '/cron', '/exports'],
    );
    assert.equal(
      found.filter((f) => !f.isDir).length,
      6,
      'journal, history, 2 state files, export data and meta',
    );
    for (const f of found) assert.equal(f.mode, f.isDir ? 0o700 : 0o600, f.path);
  });

  it('stay private when an older version left them readable by all', () => {
    const dataDir = freshDataDir();
    const file = join(dataDir, 'journal.jsonl');
    writeFileSync(file, '', { mode: 0o644 });
    writeFileSync(`${file}.tmp`, '', { mode: 0o644 });
    new Journal(file).open();
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const state = join(dataDir, 'state.json');
    writeFileSync(`${state}.tmp`, '', { mode: 0o644 });
    writeStateFile(state, {});
    assert.equal(statSync(state).mode & 0o777, 0o600);
  });
});
