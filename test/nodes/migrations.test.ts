import assert from 'node:assert/strict';
import { migrate } from '../../src/nodes/lib/migrations.js';

describe('Versioned node config', () => {
  const migrations = [
    (c: Record<string, unknown>) => ({ outputProp: 'activity', ...c }),
    (c: Record<string, unknown>) => {
      const { legacyName, ...rest } = c;
      return { ...rest, name: rest.name ?? legacyName };
    },
  ];

  it('upgrades a config saved before versioning, step by step, to the current version', () => {
    const upgraded = migrate<Record<string, unknown>>({ legacyName: 'old' }, migrations);
    assert.deepEqual(upgraded, { outputProp: 'activity', name: 'old', cfgVersion: 2 });
  });

  it('leaves what a newer save already holds, and runs only the missing steps', () => {
    const upgraded = migrate<Record<string, unknown>>(
      { cfgVersion: 1, outputProp: 'custom', legacyName: 'x' },
      migrations,
    );
    assert.deepEqual(upgraded, { outputProp: 'custom', name: 'x', cfgVersion: 2 });
    assert.deepEqual(migrate({ cfgVersion: 2, name: 'n' }, migrations), { cfgVersion: 2, name: 'n' });
  });
});
