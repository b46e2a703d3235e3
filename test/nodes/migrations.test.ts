import assert from 'node:assert/strict';
import { PROTECTION_DEFAULTS, Protection } from '../../src/core/protect/index.js';
import type { ProtectionSettings } from '../../src/core/protect/index.js';
import { NodeConfig, migrate, nodeConfigs } from '../../src/nodes/lib/migrations.js';
import { addProtections } from '../../src/nodes/lib/protect.js';
import { withRunLabels } from '../../src/nodes/lib/run-labels.js';
import { withMisfirePolicy } from '../../src/core/cron-timer.js';

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

describe('A node type’s config (NodeConfig)', () => {
  const config = new NodeConfig<{
    maxBodyKb: number;
    outputProp: string;
    enabled: boolean;
    tags: string[];
    metadataProp: string;
  }>(
    'test-node-config',
    [
      (c) => ({ maxBodyKb: 1024, outputProp: 'payload', enabled: true, ...c }),
      (c) => ({ tags: [], metadataProp: '', ...c }),
    ],
    ['outputProp'],
  );

  it('is at the version its migrations count, with the defaults they give an empty config', () => {
    assert.equal(config.version, 2);
    assert.deepEqual(config.defaults, {
      maxBodyKb: 1024,
      outputProp: 'payload',
      enabled: true,
      tags: [],
      metadataProp: '',
    });
    assert.deepEqual(config.read({}), { ...config.defaults, cfgVersion: 2 });
  });

  it('reads numbers from the text an editor field holds, and the default for a value of another kind', () => {
    const read = config.read({ cfgVersion: 2, maxBodyKb: '64', enabled: 'yes', tags: 'a', metadataProp: 5 });
    assert.equal(read.maxBodyKb, 64);
    assert.equal(read.enabled, true);
    assert.deepEqual(read.tags, []);
    assert.equal(read.metadataProp, '');
    assert.equal(config.read({ cfgVersion: 2, maxBodyKb: '' }).maxBodyKb, 1024);
    assert.equal(config.read({ cfgVersion: 2, maxBodyKb: 0 }).maxBodyKb, 0, 'a number is kept as it is');
  });

  it('reads an empty message property field as its default, and keeps other empty text', () => {
    const read = config.read({ cfgVersion: 2, outputProp: '', metadataProp: '' });
    assert.equal(read.outputProp, 'payload');
    assert.equal(read.metadataProp, '');
  });

  it('exposes its version and defaults, and more, as settings named by the node type', () => {
    assert.deepEqual(Object.keys(config.settings({ tokenPattern: 'x' })), [
      'testNodeConfigCfgVersion',
      'testNodeConfigDefaults',
      'testNodeConfigTokenPattern',
    ]);
  });
});

describe('Webhook in and change notification in, config version 2: endpoint protections', () => {
  before(() => {
    // Loading the node modules makes their NodeConfig (registered by type).
    require('../../src/nodes/imis-webhook-in.js');
    require('../../src/nodes/imis-change-in.js');
  });

  it('adds every protection, off, to a node saved at version 1, and keeps what it saved', () => {
    const v1 = { cfgVersion: 1, return202: true, maxBodyKb: 64, name: 'saved' };
    const upgraded = migrate<ProtectionSettings>({ ...v1 }, [(c) => c, addProtections]);
    assert.deepEqual(upgraded, { ...PROTECTION_DEFAULTS, ...v1, cfgVersion: 2 });
    const kept = migrate<Record<string, unknown>>({ cfgVersion: 1, rateLimit: 5 }, [
      (c) => c,
      addProtections,
    ]);
    assert.equal(kept.rateLimit, 5);
    assert.equal(new Protection(upgraded).active, false, 'the secret URL alone');
  });

  it('is version 2 of both nodes (3 adds automatic retry, 4 run labels), whose defaults leave every protection and retry off', () => {
    for (const type of ['imis-webhook-in', 'imis-change-in']) {
      const config = nodeConfigs.get(type);
      assert.equal(config?.version, 4, type);
      assert.equal(config?.defaults.retries, 0, type);
      assert.deepEqual(
        Object.fromEntries(Object.keys(PROTECTION_DEFAULTS).map((k) => [k, config?.defaults[k]])),
        PROTECTION_DEFAULTS,
        type,
      );
    }
  });
});

describe('Triggers: the run business key and values (Webhook in and change notification in v4, Cron and Manual v3)', () => {
  const versions: Record<string, number> = {
    'imis-webhook-in': 4,
    'imis-change-in': 4,
    'imis-cron': 4, // v4: the misfire policy (below)
    'imis-manual': 3,
  };
  before(() => {
    for (const type of Object.keys(versions)) require(`../../src/nodes/${type}.js`);
  });

  it('gives a trigger saved before them no business key and no values, and keeps what it saved', () => {
    const saved = { cfgVersion: 2, expression: '0 0 3 * * ? *', retries: 2, name: 'nightly' };
    assert.deepEqual(migrate({ ...saved }, [(c) => c, (c) => c, withRunLabels]), {
      ...saved,
      businessKey: '',
      runValues: [],
      cfgVersion: 3,
    });
    const kept = migrate<Record<string, unknown>>({ cfgVersion: 2, businessKey: '{{ input.id }}' }, [
      (c) => c,
      (c) => c,
      withRunLabels,
    ]);
    assert.equal(kept.businessKey, '{{ input.id }}');
  });

  it('is a migration of every trigger, whose defaults name runs by nothing', () => {
    for (const [type, version] of Object.entries(versions)) {
      const config = nodeConfigs.get(type);
      assert.equal(config?.version, version, type);
      assert.equal(config?.defaults.businessKey, '', type);
      assert.deepEqual(config?.defaults.runValues, [], type);
    }
  });
});

describe('Cron v4: the misfire policy replaces the "run missed" checkbox', () => {
  before(() => require('../../src/nodes/imis-cron.js'));

  it('turns a ticked checkbox into "once" and anything else into "skip", the default', () => {
    const cron = nodeConfigs.get('imis-cron')!;
    assert.equal(cron.version, 4);
    assert.equal(cron.defaults.misfire, 'skip');
    assert.equal('runMissed' in cron.defaults, false);
    const last = (c: Record<string, unknown>) =>
      migrate<Record<string, unknown>>(c, [(x) => x, (x) => x, (x) => x, withMisfirePolicy]);
    assert.deepEqual(last({ cfgVersion: 3, runMissed: true, expression: 'x' }), {
      cfgVersion: 4,
      expression: 'x',
      misfire: 'once',
    });
    assert.deepEqual(last({ cfgVersion: 3, runMissed: false }), { cfgVersion: 4, misfire: 'skip' });
    assert.deepEqual(last({ cfgVersion: 3 }), { cfgVersion: 4, misfire: 'skip' });
  });
});
