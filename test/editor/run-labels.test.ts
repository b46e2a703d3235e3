// The "Run business key & values" part of the trigger dialogs: in the Webhook in dialog its fields
// show (each label on one line at the dialog's default width, each value's name and template on one
// row), a node saved before they existed shows them empty, and what is typed is saved and deployed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { NODE_RED_PKG } from './red-process.js';
import type { RunRecord } from '../../src/runs/tracker.js';
import { waitFor } from '../support/wait.js';
import { cancelDialog, deployedFlows, editNode, useEditorPage } from './session.js';
import type { EditorSession } from './session.js';

const TAB = 'labels-tab';
const TOKEN = randomBytes(24).toString('base64url');
/** A Webhook in saved before the run labels (config version 3). */
const FLOW = [
  { id: TAB, type: 'tab', label: 'Run labels' },
  {
    id: 'rl-hook',
    z: TAB,
    type: 'imis-webhook-in',
    name: 'check-in',
    return202: false,
    omitBody: false,
    metadataProp: '',
    maxBodyKb: 1024,
    retries: 0,
    retryDelaySec: 30,
    cfgVersion: 3,
    x: 200,
    y: 80,
    wires: [[]],
    credentials: { token: TOKEN },
  },
  { id: 'rl-cron', z: TAB, type: 'imis-cron', expression: '0 0 3 * * ? *', x: 200, y: 160, wires: [[]] },
  { id: 'rl-manual', z: TAB, type: 'imis-manual', input: '{}', x: 200, y: 240, wires: [[]] },
];

describe(`Editor: the run business key and values of a trigger (${NODE_RED_PKG})`, function () {
  this.timeout(90_000);
  let session: EditorSession;
  let page: Page;
  const pageErrors: string[] = [];
  useEditorPage(
    'run-labels',
    { flows: () => FLOW, errors: pageErrors, tab: TAB },
    (file) => ({ session, page } = file),
  );

  /** Height of the element over the height of one line of its text (1 = one line). */
  const lines = (selector: string) =>
    page.locator(selector).evaluate((el) => {
      const style = getComputedStyle(el);
      const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.4;
      return Math.round(el.getBoundingClientRect().height / line);
    });

  it('shows the business key and the list of run values in the Webhook in dialog, each label on one line', async () => {
    await editNode(page, 'rl-hook');
    assert.equal(await page.locator('#node-input-businessKey').isVisible(), true);
    assert.equal(await page.locator('#node-input-businessKey').inputValue(), '', 'none before it existed');
    assert.equal(
      await page.locator('#node-input-businessKey').getAttribute('placeholder'),
      '{{ input.memberId }}',
    );
    const labels = {
      section: '#dialog-form b[data-i18n$="runLabels.label.section"]',
      businessKey: 'label[for="node-input-businessKey"]',
      values: '#dialog-form span[data-i18n$="runLabels.label.values"]',
    };
    assert.deepEqual(
      {
        section: await page.locator(labels.section).innerText(),
        businessKey: (await page.locator(labels.businessKey).innerText()).trim(),
        values: await page.locator(labels.values).innerText(),
      },
      { section: 'Run business key & values', businessKey: 'Key', values: 'Values' },
    );
    for (const [name, selector] of Object.entries(labels)) assert.equal(await lines(selector), 1, name);
    const label = page.locator(labels.businessKey);
    const input = page.locator('#node-input-businessKey');
    const [l, i] = [await label.boundingBox(), await input.boundingBox()];
    assert.ok(
      l && i && Math.abs(l.y + l.height / 2 - (i.y + i.height / 2)) < 8,
      'the label beside its field',
    );
    assert.equal(await page.locator('.red-ui-editableList-addButton').isVisible(), true);
    await cancelDialog(page);
  });

  it('saves the business key and run values typed in the dialog, and deploys them', async () => {
    await editNode(page, 'rl-hook');
    await page.locator('#node-input-businessKey').fill('{{ input.memberId }}');
    const add = page.locator('.red-ui-editableList-addButton').filter({ hasText: 'value' });
    await add.click();
    await add.click();
    const rows = page.locator('#node-input-runValues-list li');
    assert.equal(await rows.count(), 2);
    await rows.nth(0).locator('.imis-run-value-name').fill('eventCode');
    await rows.nth(0).locator('.imis-run-value-template').fill('{{ input.eventCode }}');
    await rows.nth(1).locator('.imis-run-value-name').fill('orderId');
    await rows.nth(1).locator('.imis-run-value-template').fill('{{ input.orderId }}');
    const [name, template] = [
      await rows.nth(0).locator('.imis-run-value-name').boundingBox(),
      await rows.nth(0).locator('.imis-run-value-template').boundingBox(),
    ];
    assert.ok(name && template && Math.abs(name.y - template.y) < 2, 'name and template on one row');
    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
    const saved = await page.evaluate(() => {
      const node = window.RED.nodes.node('rl-hook');
      return {
        businessKey: node?.businessKey,
        runValues: node?.runValues,
        valid: node?.valid,
      };
    });
    assert.deepEqual(saved, {
      businessKey: '{{ input.memberId }}',
      runValues: [
        { name: 'eventCode', value: '{{ input.eventCode }}' },
        { name: 'orderId', value: '{{ input.orderId }}' },
      ],
      valid: true,
    });

    await page.locator('#red-ui-header-button-deploy').click();
    const flows = await deployedFlows(session, (f) =>
      Boolean(f.find((n) => n.id === 'rl-hook')?.businessKey),
    );
    const deployed = flows.find((n) => n.id === 'rl-hook')!;
    assert.equal(deployed.businessKey, '{{ input.memberId }}');
    assert.deepEqual(deployed.runValues, saved.runValues);
    // The deployed node names its runs with them. Its webhook answers 503 until the redeployed
    // flows have started.
    const { id } = await waitFor(
      async () => {
        const res = await fetch(`${session.red.url}/imis/hook/${TOKEN}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ memberId: '12345', eventCode: 'ANNUAL26' }),
        });
        if (res.status === 200) return (await res.json()) as { id: string };
        if (res.status !== 503) throw new Error(`hook answered ${res.status}: ${await res.text()}`);
        return undefined;
      },
      10_000,
      'the redeployed webhook to accept a call',
      100,
    );
    const run = await waitFor(
      async () => {
        const answer = (await (await fetch(`${session.red.url}/imis/runs/${id}`)).json()) as RunRecord;
        return answer.businessKey && answer;
      },
      10_000,
      'the run with its business key',
      100,
    );
    assert.equal(run.businessKey, '12345');
    assert.deepEqual(run.values, { eventCode: 'ANNUAL26' });

    // Opened again, the dialog shows what was saved.
    await editNode(page, 'rl-hook');
    assert.equal(await page.locator('#node-input-businessKey').inputValue(), '{{ input.memberId }}');
    assert.deepEqual(
      await page
        .locator('#node-input-runValues-list .imis-run-value-name')
        .evaluateAll((els) => els.map((el) => (el as HTMLInputElement).value)),
      ['eventCode', 'orderId'],
    );
    await cancelDialog(page);
  });

  it('marks run values that share a name', async () => {
    const message = await page.evaluate(() => {
      const node = window.RED.nodes.node('rl-hook');
      if (!node) throw new Error('no node rl-hook');
      const values = [
        { name: 'a', value: '1' },
        { name: 'a', value: '2' },
      ];
      return node._def.defaults.runValues.validate?.call(node, values, {});
    });
    assert.match(String(message), /different from the others/);
  });

  it('shows the same fields in the Cron and Manual dialogs', async () => {
    for (const id of ['rl-cron', 'rl-manual']) {
      await editNode(page, id);
      assert.equal(await page.locator('#node-input-businessKey').isVisible(), true, id);
      assert.equal(await page.locator('.red-ui-editableList-addButton').isVisible(), true, id);
      assert.equal(await lines('label[for="node-input-businessKey"]'), 1, id);
      await cancelDialog(page);
    }
  });

  it('raised no errors in the browser', () => {
    assert.deepEqual(pageErrors, []);
  });
});
