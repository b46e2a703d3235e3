import assert from 'node:assert/strict';
import { startEmulator } from '../../src/emulator/server.js';
import type { Emulator } from '../../src/emulator/server.js';
import { freshDataDir, helper, packageNodes, startHelper, stopHelper } from '../support/red.js';

describe('imis-server configuration: editor endpoints', function () {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ port: 0 });
  });
  after(() => emulator.close());
  beforeEach(async () => {
    await startHelper(freshDataDir());
    await helper.load(packageNodes(), [{ id: 'srv', type: 'imis-server', baseUrl: emulator.url }], {
      srv: { username: 'MANAGER', password: 'manager' },
    });
  });
  afterEach(stopHelper);

  it('"Test connection" signs in with the dialog\'s values', async () => {
    const res = await helper
      .request()
      .post('/imis/server/test')
      .send({ baseUrl: emulator.url, username: 'MANAGER', password: 'manager' })
      .expect(200);
    assert.equal(res.body.ok, true);
    assert.ok(res.body.expiresIn > 0);
  });

  it('"Test connection" uses the stored password when the dialog shows the placeholder', async () => {
    const res = await helper
      .request()
      .post('/imis/server/test')
      .send({ id: 'srv', baseUrl: emulator.url, username: 'MANAGER', password: '__PWRD__' })
      .expect(200);
    assert.equal(res.body.ok, true);
  });

  it('"Test connection" reports iMIS\'s own message for a wrong password', async () => {
    const res = await helper
      .request()
      .post('/imis/server/test')
      .send({ baseUrl: emulator.url, username: 'MANAGER', password: 'wrong' })
      .expect(400);
    assert.match(res.body.error, /user name or password is incorrect/);
  });

  it('lists the panels of the deployed server, with their columns, for Insert Panel Record', async () => {
    const res = await helper.request().get('/imis/server/srv/panels').expect(200);
    const attendance = res.body.find((p: any) => p.name === 'ABC_EventAttendance');
    assert.ok(attendance, 'ABC_EventAttendance is listed');
    assert.ok(attendance.properties.some((c: any) => c.name === 'EventCode'));
  });

  it('serves the activity field table the Insert Activity dialog is built from', async () => {
    const res = await helper.request().get('/imis/activity-fields').expect(200);
    assert.deepEqual(
      res.body.slice(0, 3).map((f: any) => f.property),
      ['PartyId', 'ACTIVITY_TYPE', 'TRANSACTION_DATE'],
    );
  });
});
