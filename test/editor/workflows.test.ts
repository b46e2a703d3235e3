// The "iMIS workflows" sidebar in Chromium: the example's workflow listed and drawn, an instance
// created by a webhook call appearing in the Instances view, Advance firing a Manual transition,
// History showing it, Reset to State after confirmation.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { FlowNode } from '../support/flows.js';
import type { EditorNode } from './red-window.js';
import { PACKAGE_ROOT } from './red-process.js';
import { waitFor } from '../support/wait.js';
import { useEditorPage } from './session.js';
import type { EditorSession } from './session.js';

const TOKEN = randomBytes(24).toString('base64url');

/** The order lifecycle example, deployed with a webhook token and the session's emulator. */
function exampleFlow(s: EditorSession): unknown[] {
  const flow: FlowNode[] = JSON.parse(
    readFileSync(join(PACKAGE_ROOT, 'examples', 'order-lifecycle-workflow.json'), 'utf8'),
  );
  return flow.map((n) => {
    if (n.type === 'imis-webhook-in') return { ...n, credentials: { token: TOKEN } };
    if (n.type === 'imis-server')
      return { ...n, baseUrl: s.emulator.url, credentials: { username: 'MANAGER', password: 'manager' } };
    return n;
  });
}

describe('Editor: the iMIS workflows sidebar', function () {
  this.timeout(90_000);
  let session: EditorSession;
  let page: Page;
  const pageErrors: string[] = [];
  const key = `SO-${Date.now()}`;
  useEditorPage(
    'workflows',
    { flows: exampleFlow, errors: pageErrors },
    (file) => ({ session, page } = file),
  );

  const row = (code: string) => page.locator(`.imis-wf-list tr[data-code="${code}"]`);
  const instance = (k: string) => page.locator(`.imis-wf-instances tr[data-key="${k}"]`);

  it('lists the example workflow with its initial state and active instances, and draws it', async () => {
    await page.evaluate(() => window.RED.sidebar.show('imis-workflows'));
    await row('ORDER_LIFECYCLE').waitFor({ state: 'visible', timeout: 15_000 });
    const cells = await row('ORDER_LIFECYCLE').locator('td').allInnerTexts();
    assert.deepEqual(cells.slice(0, 3), ['ORDER_LIFECYCLE', 'Shop orders until iMIS confirms them', 'NEW']);
    assert.match(cells[3], /^\d+$/, `active instances: ${cells[3]}`);
    await row('ORDER_LIFECYCLE').click();
    const graph = page.locator('.imis-wf-graph-box svg.imis-wf-graph');
    await graph.waitFor({ state: 'visible', timeout: 10_000 });
    assert.deepEqual(
      (
        await graph.locator('[data-state]').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')))
      ).sort(),
      ['CONFIRMED', 'FAILED', 'NEW', 'SUBMITTED'],
    );
    assert.equal(
      await graph.locator('.imis-wf-initial[data-state="NEW"]').count(),
      1,
      'NEW drawn as initial',
    );
    assert.equal(
      await graph.locator('.imis-wf-final[data-state="CONFIRMED"]').count(),
      1,
      'CONFIRMED drawn as final',
    );
    assert.equal(
      await graph.locator('.imis-wf-timeout[data-transition="EXPIRE"]').count(),
      1,
      'EXPIRE drawn as timeout',
    );
    assert.equal(await graph.locator('[data-transition]').count(), 4);
    const box = await graph.locator('[data-state="NEW"] rect').first().boundingBox();
    assert.ok(box && box.width > 20 && box.height > 10, 'the states are drawn with a size');
    assert.doesNotMatch(
      await page.locator('.imis-workflows').innerText(),
      /imis-workflows\./,
      'texts from the catalog',
    );
  });

  it('shows the instance a webhook call creates, in SUBMITTED', async () => {
    const res = await fetch(`${session.red.url}/imis/hook/${TOKEN}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ orderId: key, memberId: '12345' }),
    });
    assert.equal(res.status, 200, await res.text());
    await page.locator('.imis-wf-filter-state').selectOption('SUBMITTED');
    // The list shows what it read when applied: apply again until it has the new instance.
    await waitFor(
      async () => {
        await page.locator('.imis-wf-filter-apply').click();
        return instance(key)
          .waitFor({ state: 'visible', timeout: 500 })
          .then(() => true)
          .catch(() => false);
      },
      10_000,
      'the instance listed',
      0,
    );
    assert.equal(await instance(key).locator('.imis-wf-state').innerText(), 'SUBMITTED');
    assert.equal(await instance(key).locator('.imis-wf-last-transition').innerText(), 'SUBMIT');
    assert.equal(await instance(key).locator('.imis-wf-last-trigger').innerText(), 'On Webhook');
    await page.screenshot({ path: '/tmp/editor-workflows.png' });
  });

  it('advances the instance by a Manual transition, and History shows it', async () => {
    await page.locator('.imis-wf-filter-state').selectOption('');
    await page.locator('.imis-wf-filter-apply').click();
    await instance(key).waitFor({ state: 'visible' });
    await instance(key).locator('.imis-wf-advance').click();
    const choice = instance(key).locator('.imis-wf-advance-choice');
    await choice.waitFor({ state: 'visible' });
    assert.deepEqual(
      await choice.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)),
      ['EXPIRE'],
    );
    await instance(key).locator('.imis-wf-advance-go').click();
    await page.waitForFunction(
      (k) =>
        document.querySelector(`.imis-wf-instances tr[data-key="${k}"] .imis-wf-state`)?.textContent ===
        'FAILED',
      key,
    );
    assert.equal(await instance(key).locator('.imis-wf-last-transition').innerText(), 'EXPIRE');
    await instance(key).locator('.imis-wf-history').click();
    const history = instance(key).locator('.imis-wf-history-list li');
    await history.first().waitFor({ state: 'visible' });
    const lines = await history.allInnerTexts();
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.match(lines[0], /created in NEW \(On Webhook/);
    assert.match(lines[1], /NEW → SUBMITTED by SUBMIT \(On Webhook/);
    assert.match(lines[2], /SUBMITTED → FAILED by EXPIRE \(Manual, editor\)/);
  });

  it('resets the instance to a state after confirmation', async () => {
    await instance(key).locator('.imis-wf-reset').click();
    await instance(key).locator('.imis-wf-reset-choice').selectOption('NEW');
    await instance(key).locator('.imis-wf-reset-go').click();
    const confirm = page.locator('.ui-dialog', { hasText: `Reset instance ${key}` });
    await confirm.waitFor({ state: 'visible' });
    await confirm.locator('button', { hasText: 'Yes' }).click();
    await page.waitForFunction(
      (k) =>
        document.querySelector(`.imis-wf-instances tr[data-key="${k}"] .imis-wf-state`)?.textContent ===
        'NEW',
      key,
    );
  });

  it('checks the workflow in its dialog as one types, naming the culprit, and copies it under a new code', async () => {
    const id = await page.evaluate(() => {
      let found = '';
      window.RED.nodes.eachConfig((n) => {
        if (n.type === 'imis-workflow' && n.code === 'ORDER_LIFECYCLE') found = n.id;
      });
      window.RED.editor.editConfig('', 'imis-workflow', found);
      return found;
    });
    assert.ok(id);
    const problems = page.locator('#imis-workflow-problems li');
    await page.waitForFunction(
      () => document.querySelector('#imis-workflow-problems li')?.textContent === 'No problems found',
    );
    const states = page.locator('#node-config-input-states-list .imis-wf-state-code');
    assert.deepEqual(await states.evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value)), [
      'NEW',
      'SUBMITTED',
      'CONFIRMED',
      'FAILED',
    ]);
    const to = page.locator('#node-config-input-transitions-list .imis-wf-transition-to').first();
    await to.fill('SUBMITED');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('#imis-workflow-problems li')].some((li) =>
        /Transition SUBMIT goes to unknown state SUBMITED/.test(li.textContent ?? ''),
      ),
    );
    assert.ok(
      (await problems.allInnerTexts()).some((t) => /State SUBMITTED cannot be reached/.test(t)),
      'warning too',
    );
    await page.screenshot({ path: '/tmp/editor-workflow-dialog.png' });
    await to.fill('SUBMITTED');
    await page.waitForFunction(
      () => document.querySelector('#imis-workflow-problems li')?.textContent === 'No problems found',
    );
    await page.locator('.imis-wf-graph').first().waitFor({ state: 'visible' });

    await page.locator('#imis-workflow-copy').click();
    await page.locator('#imis-workflow-copy-code').fill('ORDER_LIFECYCLE_V2');
    await page.locator('#imis-workflow-copy-ok').click();
    const copy = await page.evaluate(() => {
      const copies: EditorNode[] = [];
      window.RED.nodes.eachConfig((n) => {
        if (n.type === 'imis-workflow' && n.code === 'ORDER_LIFECYCLE_V2') copies.push(n);
      });
      const found = copies.at(-1);
      const count = (list: unknown) => (Array.isArray(list) ? list.length : undefined);
      return (
        found && { states: count(found.states), transitions: count(found.transitions), valid: found.valid }
      );
    });
    assert.deepEqual(copy, { states: 4, transitions: 4, valid: true });
    // Deleting a workflow with active instances asks first; Cancel keeps it.
    await page.waitForFunction(() =>
      /Active instances: [1-9]/.test(document.getElementById('imis-workflow-active')?.textContent ?? ''),
    );
    await page.locator('.red-ui-tray-toolbar .leftButton', { hasText: 'Delete' }).click();
    const ask = page.locator('#imis-workflow-delete-confirm');
    await ask.waitFor({ state: 'visible' });
    assert.match(await ask.innerText(), /Workflow ORDER_LIFECYCLE has \d+ active instance\(s\)/);
    await page.locator('.ui-dialog', { has: ask }).locator('button', { hasText: 'Cancel' }).click();
    await ask.waitFor({ state: 'detached' });
    assert.equal(
      await page.evaluate((wid) => Boolean(window.RED.nodes.node(wid)), id),
      true,
      'the workflow is still there',
    );
    await page.locator('#node-config-dialog-cancel').click();
    await page.locator('#node-config-dialog-cancel').waitFor({ state: 'detached' });
    await page.evaluate(() => {
      const { RED } = window;
      RED.nodes.eachConfig((n) => {
        if (n.type === 'imis-workflow' && n.code === 'ORDER_LIFECYCLE_V2') RED.nodes.remove(n.id);
      });
    });
  });

  it('raised no errors in the browser', () => {
    assert.deepEqual(pageErrors, []);
  });
});
