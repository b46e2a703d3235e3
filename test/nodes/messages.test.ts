import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SinonSpyCall } from 'sinon';
import {
  freshDataDir,
  helper,
  packageNodes,
  received,
  startHelper,
  stopHelper,
  waitFor,
} from '../support/red.js';
import type { CaughtError } from '../support/red.js';

const serverCatalog = JSON.parse(
  readFileSync(join(__dirname, '../../../nodes/locales/en-US/imis-server.json'), 'utf8'),
)['imis-server'];

describe('Messages of nodes used without an iMIS server', function () {
  beforeEach(() => startHelper(freshDataDir()));
  afterEach(stopHelper);

  for (const type of ['imis-insert-activity', 'imis-insert-panel', 'imis-iqa']) {
    it(`${type}: shows "${serverCatalog.status.missing}" and fails each message with the catalog's text`, async () => {
      await helper.load(packageNodes(), [
        { id: 'tab', type: 'tab' },
        { id: 'n', z: 'tab', type, path: '$/Q', panel: 'P', wires: [[]] },
        { id: 'catcher', z: 'tab', type: 'catch', scope: null, wires: [['caught']] },
        { id: 'caught', z: 'tab', type: 'helper' },
      ]);
      const node = helper.getNode('n');
      const shown = () =>
        helper._NodePrototype.status
          .getCalls()
          .filter((call: SinonSpyCall) => call.thisValue === node)
          .map((call: SinonSpyCall) => call.args[0].text);
      assert.deepEqual(shown(), [serverCatalog.status.missing]);
      const caught = received<CaughtError>('caught');
      node.receive({ payload: {} });
      await waitFor(() => caught.length === 1, 5000, 'the Catch node');
      assert.equal(caught[0].error.message, serverCatalog.errors.missing);
    });
  }
});
