import assert from 'node:assert/strict';
import type { Emulator } from '../../src/emulator/server.js';
import type { ActivityField } from '../../src/imis/activity.js';
import type { ImisClient } from '../../src/imis/client.js';
import type { QueryDescription, QueryDocument } from '../../src/imis/iqa.js';
import type { PanelInfo } from '../../src/imis/panels.js';
import { useEmulatedRed } from '../support/emulated.js';
import { helper, packageNodes } from '../support/red.js';
import type { ApiError } from '../support/runs.js';

/** What "Test connection" (POST /imis/server/test) answers once signed in (ImisClient.testConnection). */
type SignedIn = Awaited<ReturnType<ImisClient['testConnection']>>;

describe('imis-server configuration: editor endpoints', function () {
  let emulator: Emulator;
  useEmulatedRed((env) => ({ emulator } = env));
  beforeEach(async () => {
    await helper.load(packageNodes(), [{ id: 'srv', type: 'imis-server', baseUrl: emulator.url }], {
      srv: { username: 'MANAGER', password: 'manager' },
    });
  });

  it('"Test connection" signs in with the dialog\'s values', async () => {
    const res = await helper
      .request()
      .post<SignedIn>('/imis/server/test')
      .send({ baseUrl: emulator.url, username: 'MANAGER', password: 'manager' })
      .expect(200);
    assert.equal(res.body.ok, true);
    assert.ok(res.body.expiresIn > 0);
  });

  it('"Test connection" uses the stored password when the dialog shows the placeholder', async () => {
    const res = await helper
      .request()
      .post<SignedIn>('/imis/server/test')
      .send({ id: 'srv', baseUrl: emulator.url, username: 'MANAGER', password: '__PWRD__' })
      .expect(200);
    assert.equal(res.body.ok, true);
  });

  it('"Test connection" reports iMIS\'s own message for a wrong password', async () => {
    const res = await helper
      .request()
      .post<ApiError>('/imis/server/test')
      .send({ baseUrl: emulator.url, username: 'MANAGER', password: 'wrong' })
      .expect(400);
    assert.match(res.body.error, /user name or password is incorrect/);
  });

  it('"Test connection" without a username or password says so, instead of signing in as ""', async () => {
    for (const typed of [{}, { username: 'MANAGER' }, { password: 'manager' }]) {
      const res = await helper
        .request()
        .post<ApiError>('/imis/server/test')
        .send({ baseUrl: emulator.url, ...typed })
        .expect(400);
      assert.equal(
        res.body.error,
        'Enter the username and password of an iMIS user first',
        JSON.stringify(typed),
      );
    }
  });

  // What the dialogs send for the server they show (src/editor/shared/server.ts): unsaved settings with the
  // typed password, or a deployed node's id with Node-RED's password placeholder.
  const unsaved = () => ({ baseUrl: emulator.url, username: 'MANAGER', password: 'manager' });
  const deployed = () => ({ id: 'srv', baseUrl: emulator.url, password: '__PWRD__' });

  it('lists the panels, with their columns, for a server configured but not deployed yet', async () => {
    const res = await helper.request().post('/imis/server/panels').send({ server: unsaved() }).expect(200);
    const attendance = (res.body as PanelInfo[]).find((p) => p.name === 'ABC_EventAttendance');
    assert.ok(attendance, 'ABC_EventAttendance is listed');
    assert.ok(attendance.properties.some((c) => c.name === 'EventCode'));
  });

  it('lists the panels of the deployed server with its stored credentials', async () => {
    const res = await helper.request().post('/imis/server/panels').send({ server: deployed() }).expect(200);
    assert.ok((res.body as PanelInfo[]).some((p) => p.name === 'ABC_EventAttendance'));
  });

  it('uses what the dialog typed over what is deployed (a wrong password fails)', async () => {
    const res = await helper
      .request()
      .post<ApiError>('/imis/server/panels')
      .send({ server: { ...deployed(), password: 'wrong' } })
      .expect(400);
    assert.match(res.body.error, /user name or password is incorrect/);
  });

  it('answers 400 with a sentence when the dialog has no server chosen', async () => {
    const res = await helper.request().post<ApiError>('/imis/server/panels').send({}).expect(400);
    assert.equal(res.body.error, 'Choose an iMIS server (or add one) first');
  });

  it("lists IQA queries and a query's prompts for a server not deployed yet", async () => {
    const queries = await helper
      .request()
      .post('/imis/iqa/queries')
      .send({ server: unsaved(), folder: '$/Common/Queries' })
      .expect(200);
    assert.ok(
      (queries.body as QueryDocument[]).some((q) => q.path === '$/Common/Queries/Activities/By Type'),
    );
    const query = await helper
      .request()
      .post('/imis/iqa/query')
      .send({ server: unsaved(), path: '$/Common/Queries/Activities/By Type' })
      .expect(200);
    assert.deepEqual(
      (query.body as QueryDescription).parameters.map((p) => [p.propertyName, p.operator, p.prompt]),
      [['CsActivity.ActivityType', 'eq', 'Optional']],
    );
  });

  it("offers the activity types the site's activities use, most used first", async () => {
    const add = (type: string) =>
      emulator.state.activities.push({
        SEQN: emulator.state.activities.length + 1,
        PartyId: '101',
        ACTIVITY_TYPE: type,
      });
    ['MEETING', 'EVENT', 'MEETING'].forEach(add);
    const res = await helper
      .request()
      .post('/imis/server/activity-types')
      .send({ server: unsaved() })
      .expect(200);
    assert.deepEqual(res.body, ['MEETING', 'EVENT']);
  });

  it('serves the activity field table the Insert Activity dialog is built from', async () => {
    const res = await helper.request().get('/imis/activity-fields').expect(200);
    assert.deepEqual(
      (res.body as ActivityField[]).slice(0, 3).map((f) => f.property),
      ['PartyId', 'ACTIVITY_TYPE', 'TRANSACTION_DATE'],
    );
  });
});
