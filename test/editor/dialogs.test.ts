// The dialogs work before the first deploy: a server configuration added in the editor is used at
// once by the panel picker, IQA Browse and prompts, and the activity type suggestions; the cron
// dialog shows its next runs in the node's zone and blames an unknown zone on the zone field.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { NODE_RED_PKG } from './red-process.js';
import { cancelDialog, editNode, nodeIds, useEditorPage } from './session.js';
import type { EditorSession } from './session.js';

const TAB = 'dialogs-tab';
const FLOW = [
  { id: TAB, type: 'tab', label: 'Dialogs' },
  {
    id: 'dl-panel',
    z: TAB,
    type: 'imis-insert-panel',
    outputProp: 'panelRecord',
    x: 200,
    y: 80,
    wires: [[]],
  },
  { id: 'dl-iqa', z: TAB, type: 'imis-iqa', outputProp: 'payload', x: 200, y: 160, wires: [[]] },
  {
    id: 'dl-activity',
    z: TAB,
    type: 'imis-insert-activity',
    fields: { partyId: '{{ input.memberId }}', activityType: '', transactionDate: '' },
    outputProp: 'activity',
    x: 200,
    y: 240,
    wires: [[]],
  },
  {
    id: 'dl-cron',
    z: TAB,
    type: 'imis-cron',
    expression: '0 0 9 * * ? *',
    timeZone: '',
    x: 200,
    y: 320,
    wires: [[]],
  },
];
/** Activity types the emulator's site uses for these tests (iMIS lists no activity types). */
const SITE_TYPES = ['WEBINAR', 'COMMITTEE', 'WEBINAR'];

describe(`Editor dialogs before the first deploy: ${NODE_RED_PKG}`, function () {
  this.timeout(90_000);
  let session: EditorSession;
  let page: Page;
  let serverId = '';
  const pageErrors: string[] = [];
  const added: Record<string, unknown>[] = [];

  const beforeOpen = async (s: EditorSession) => {
    for (const type of SITE_TYPES) {
      const activity = { SEQN: 900_000 + added.length, PartyId: '900', ACTIVITY_TYPE: type };
      added.push(activity);
      s.emulator.state.activities.push(activity);
    }
  };
  useEditorPage(
    'dialogs',
    { flows: () => FLOW, errors: pageErrors, tab: TAB, beforeOpen },
    (file) => ({ session, page } = file),
  );
  after(() => {
    if (!session) return;
    const { activities } = session.emulator.state;
    for (const a of added) activities.splice(activities.indexOf(a), 1);
  });

  /** Chooses the server added in the first test in the open dialog's server field. */
  const chooseServer = async () => {
    assert.ok(serverId, 'the first test added a server configuration');
    await page.locator('#node-input-server').selectOption(serverId);
  };

  it('adds a server from Insert Panel Record and lists its panels and columns at once', async () => {
    await editNode(page, 'dl-panel');
    await page.locator('#node-input-btn-server-add').click();
    await page.locator('#node-config-dialog-ok').waitFor({ state: 'visible' });
    await page.locator('#node-config-input-baseUrl').fill(session.emulator.url);
    await page.locator('#node-config-input-username').fill('MANAGER');
    await page.locator('#node-config-input-password').fill('manager');
    await page.locator('#node-config-dialog-ok').click();
    await page.locator('#node-config-dialog-ok').waitFor({ state: 'detached' });
    [serverId] = await nodeIds(page, 'imis-server');

    await page
      .locator('#node-input-panel-select option[value="ABC_EventAttendance"]')
      .waitFor({ state: 'attached' });
    await page.locator('#node-input-panel-select').selectOption('ABC_EventAttendance');
    await page.locator('.imis-column[data-column="EventCode"]').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#node-input-panel-error').isVisible(), false);
    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });

    const deployed = JSON.stringify(await (await fetch(`${session.red.url}/flows`)).json());
    assert.ok(!deployed.includes('"imis-server"'), 'the server configuration is not deployed');
    assert.equal(
      await page.evaluate((id) => window.RED.nodes.node(id)?.panel, 'dl-panel'),
      'ABC_EventAttendance',
    );
  });

  it("browses IQA queries with the undeployed server and shows the chosen query's prompts", async () => {
    await editNode(page, 'dl-iqa');
    await chooseServer();
    await page.locator('#node-input-browse').click();
    const query = page.locator('#node-input-query-list li', {
      hasText: '$/Common/Queries/Activities/By Type',
    });
    await query.waitFor({ state: 'visible' });
    await query.click();
    const prompt = page.locator('#node-input-prompts .imis-iqa-prompt');
    await prompt.waitFor({ state: 'visible' });
    assert.deepEqual(await prompt.allInnerTexts(), ['1. CsActivity.ActivityType (eq, Optional)']);
    // One parameter row per prompt, showing its operator and property.
    await page
      .locator('.imis-iqa-param[placeholder="eq:{{ input.ActivityType }}"]')
      .waitFor({ state: 'attached' });
    assert.equal(await page.locator('.imis-iqa-param').count(), 1);
    await cancelDialog(page);
  });

  it("marks Insert Activity's required fields while empty and offers the site's activity types", async () => {
    await editNode(page, 'dl-activity');
    const partyId = page.locator('#node-input-f-partyId');
    const activityType = page.locator('#node-input-f-activityType');
    const invalid = async () => ({
      partyId: await partyId.evaluate((e) => e.classList.contains('input-error')),
      activityType: await activityType.evaluate((e) => e.classList.contains('input-error')),
    });
    assert.deepEqual(await invalid(), { partyId: false, activityType: true });
    await activityType.fill('MEETING');
    await partyId.fill('');
    assert.deepEqual(await invalid(), { partyId: true, activityType: false });

    await chooseServer();
    const types = page.locator('#node-input-f-activityType-types option');
    await types.first().waitFor({ state: 'attached' });
    assert.deepEqual(await types.evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)), [
      'WEBINAR',
      'COMMITTEE',
    ]);
    await cancelDialog(page);
  });

  it("lists the cron's next runs in its zone and marks an unknown zone on the zone field", async () => {
    await editNode(page, 'dl-cron');
    const zone = page.locator('#imis-cron-zone');
    const here = Intl.DateTimeFormat().resolvedOptions().timeZone;
    await page.waitForFunction(
      (z) => document.getElementById('imis-cron-zone')?.textContent === `in ${z}`,
      here,
    );
    assert.ok((await page.locator('#node-input-timeZone-zones option').count()) > 300, 'IANA zones offered');

    await page.locator('#node-input-timeZone').fill('Mars/Olympus');
    await page.locator('#node-input-timeZone.input-error').waitFor({ state: 'attached' });
    await page.waitForFunction(() =>
      /Unknown time zone/.test(document.getElementById('imis-cron-description')?.textContent ?? ''),
    );
    assert.equal(
      await page.locator('#node-input-expression').evaluate((e) => e.classList.contains('input-error')),
      false,
      'the expression is not blamed',
    );
    assert.equal(await page.locator('#imis-cron-next li').count(), 0);

    await page.locator('#node-input-timeZone').fill('Asia/Tokyo');
    await page.waitForFunction(
      () => document.getElementById('imis-cron-zone')?.textContent === 'in Asia/Tokyo',
    );
    const runs = await page.locator('#imis-cron-next li').allInnerTexts();
    assert.equal(runs.length, 5);
    for (const run of runs) assert.match(run, /09:00/, `${run} is 09:00 in Tokyo`);
    assert.equal(await zone.isVisible(), true);
    assert.equal(
      await page.locator('#node-input-timeZone').evaluate((e) => e.classList.contains('input-error')),
      false,
    );
    await cancelDialog(page);
  });

  it("marks an unknown zone on the iMIS server's zone field when it is saved", async () => {
    await page.evaluate((id) => window.RED.editor.editConfig('', 'imis-server', id), serverId);
    await page.locator('#node-config-dialog-ok').waitFor({ state: 'visible' });
    const field = page.locator('#node-config-input-timeZone');
    await field.fill('Nowhere/Zone');
    await field.blur();
    await page.locator('#node-config-input-timeZone.input-error').waitFor({ state: 'attached' });
    await field.fill('America/Chicago');
    await field.blur();
    await page.locator('#node-config-input-timeZone:not(.input-error)').waitFor({ state: 'attached' });
    await page.locator('#node-config-dialog-cancel').click();
    await page.locator('#node-config-dialog-cancel').waitFor({ state: 'detached' });
  });

  it('raised no errors in the browser', () => {
    assert.deepEqual(pageErrors, []);
  });
});
