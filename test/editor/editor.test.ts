// The editor as a person sees it: a real Node-RED (child process, 127.0.0.1, temporary user directory with
// this package linked in) driven in headless Chromium (Debian's /usr/bin/chromium, never downloaded),
// plus the iMIS emulator in this process. Run by `npm run test:editor` (.mocharc.editor.json).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { Emulator } from '../../src/emulator/server.js';
import { EVENT_TYPE_ENTRY_PATTERN } from '../../src/core/event-grid.js';
import { TOKEN_PATTERN } from '../../src/core/tokens.js';
import { nodeConfigs } from '../../src/nodes/lib/migrations.js';
import { NODE_RED_PKG, PACKAGE_ROOT } from './red-process.js';
import type { RedProcess } from './red-process.js';
import { waitFor } from '../support/wait.js';
import { nodeIds, useEditorPage } from './session.js';
import type { EditorSession } from './session.js';

const SCREENSHOT = '/tmp/editor-webhook.png';
const PACKAGE_NODES = [
  'imis-webhook-in',
  'imis-schema-validate',
  'imis-insert-activity',
  'imis-insert-panel',
];
const EXAMPLE = 'event-check-in-to-activity';
const SEED_PAYLOAD = {
  memberId: '12345',
  eventCode: 'CONF2026',
  checkInTime: '2026-05-27T09:15:00',
  sessionCode: 'KEYNOTE',
};
const PASSWORD = 'manager';

/** Double-clicks a node on the canvas, which opens its edit dialog. */
async function openNode(page: Page, id: string): Promise<void> {
  await page.evaluate((nodeId) => {
    const { RED } = window;
    const node = RED.nodes.node(nodeId);
    if (!node?.z) throw new Error(`${nodeId} is not a node on a tab`);
    if (RED.workspaces.active() !== node.z) RED.workspaces.show(node.z);
  }, id);
  await page.locator(`[id="${id}"] .red-ui-flow-node`).dblclick();
  await page.locator('#node-dialog-ok').waitFor({ state: 'visible' });
}

/** The main menu's item `id` (e.g. menu-item-import). */
async function menu(page: Page, id: string): Promise<void> {
  await page.locator('#red-ui-header-button-sidemenu').click();
  await page.locator(`#${id}`).click();
}

describe(`Editor: ${NODE_RED_PKG} in Chromium`, function () {
  this.timeout(90_000);

  let session: EditorSession;
  let emulator: Emulator | undefined;
  let red: RedProcess | undefined;
  let page: Page;
  let hookUrl = '';
  let activitiesBefore = 0;
  const pageErrors: string[] = [];

  // This file starts from an empty workspace.
  useEditorPage('webhook', { flows: () => [], errors: pageErrors }, (file) => {
    ({ session, page } = file);
    ({ emulator, red } = session);
    activitiesBefore = emulator.state.activitiesFor('12345').length;
  });

  it('loads the editor with the package nodes in an "iMIS" palette category', async () => {
    const category = page.locator('#red-ui-palette-container-iMIS');
    assert.equal((await page.locator('#red-ui-palette-header-iMIS').innerText()).trim(), 'iMIS');
    for (const type of PACKAGE_NODES) {
      assert.equal(
        await category.locator(`.red-ui-palette-node[data-palette-type="${type}"]`).count(),
        1,
        `${type} is in the iMIS palette category`,
      );
    }
  });

  it('registers every node type that package.json lists (none failed to load)', async () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8'));
    const types = Object.keys(pkg['node-red'].nodes);
    const missing = await page.evaluate((all) => all.filter((t) => !window.RED.nodes.getType(t)), types);
    const loadErrors = red!.output().match(/\[warn\] \[@imisflow\/node-red-imis\/[^\]]+\] .*/g) ?? [];
    assert.deepEqual({ missing, loadErrors }, { missing: [], loadErrors: [] });
  });

  it("offers the runtime's defaults and stamps its config version (its migration count) on every node type", async () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8'));
    const types = Object.keys(pkg['node-red'].nodes);
    // The runtime's side: each node module states its migrations once (lib/migrations NodeConfig).
    for (const type of types) require(`../../src/nodes/${type}.js`);
    const runtime = Object.fromEntries(
      types.map((t) => {
        const config = nodeConfigs.get(t);
        assert.ok(config, `${t} has a NodeConfig`);
        return [t, { cfgVersion: config.version, ...config.defaults }];
      }),
    );
    const editor = await page.evaluate(
      (all) =>
        Object.fromEntries(
          all.map((t) => {
            const def = window.RED.nodes.getType(t);
            if (!def) throw new Error(`${t} is not registered`);
            return [t, Object.fromEntries(Object.entries(def.defaults).map(([k, d]) => [k, d.value]))];
          }),
        ),
      types,
    );
    for (const type of types) {
      const expected = runtime[type];
      const offered = Object.fromEntries(Object.keys(expected).map((k) => [k, editor[type][k]]));
      assert.deepEqual(offered, expected, `${type}: the editor's defaults and version are the runtime's`);
    }
    // The patterns the editor checks with are the runtime's too (the settings it reads, shared/settings.ts).
    const patterns = await page.evaluate(() => {
      const { settings } = window.RED;
      return { token: settings.imisWebhookInTokenPattern, eventType: settings.imisChangeInEventTypePattern };
    });
    assert.deepEqual(patterns, { token: TOKEN_PATTERN, eventType: EVENT_TYPE_ENTRY_PATTERN });
  });

  it('lists the package examples under Import > Examples and imports one', async () => {
    await menu(page, 'menu-item-import');
    await page.locator('#red-ui-tab-red-ui-clipboard-dialog-import-tab-examples a').click();
    const tree = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
    const label = (text: string) => tree.locator('.red-ui-treeList-label', { hasText: text }).first();
    await label('@imisflow/node-red-imis').click();
    const examples = readdirSync(join(PACKAGE_ROOT, 'examples'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''));
    assert.ok(examples.includes(EXAMPLE));
    for (const name of examples) await label(name).waitFor({ state: 'visible' });
    await label(EXAMPLE).click();
    await page.locator('#red-ui-clipboard-dialog-ok').click();
    await page.locator('#red-ui-clipboard-dialog-ok').waitFor({ state: 'hidden' });
    // The dialog closes at once; the example is fetched, then imported.
    await page.waitForFunction(
      () => window.RED.nodes.filterNodes({ type: 'imis-webhook-in' }).length > 0,
      undefined,
      { timeout: 10_000 },
    );
    for (const type of ['imis-webhook-in', 'imis-schema-validate', 'imis-insert-activity', 'imis-server']) {
      assert.equal((await nodeIds(page, type)).length, 1, `one ${type} imported`);
    }
  });

  it('takes the iMIS server URL and credentials in the config dialog, and deploys', async () => {
    const [insertId] = await nodeIds(page, 'imis-insert-activity');
    await openNode(page, insertId);
    await page.locator('#node-input-btn-server-edit').click();
    await page.locator('#node-config-dialog-ok').waitFor({ state: 'visible' });
    await page.locator('#node-config-input-baseUrl').fill(emulator!.url);
    await page.locator('#node-config-input-username').fill('MANAGER');
    await page.locator('#node-config-input-password').fill(PASSWORD);
    await page.locator('#node-config-dialog-ok').click();
    await page.locator('#node-config-dialog-ok').waitFor({ state: 'detached' });
    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });

    await page.locator('#red-ui-header-button-deploy').click();
    const deployed = page.locator('.red-ui-notification', { hasText: 'Successfully deployed' });
    const confirm = page.locator('.red-ui-editor-dialog:visible, .ui-dialog:visible', { hasText: /deploy/i });
    await Promise.race([
      deployed.waitFor({ state: 'visible' }),
      confirm.first().waitFor({ state: 'visible' }),
    ]);
    if (!(await deployed.isVisible())) assert.fail(`Deploy asked: ${await confirm.first().innerText()}`);
    assert.equal(await page.evaluate(() => window.RED.nodes.dirty()), false, 'nothing left to deploy');
  });

  it('shows the webhook URL in the Webhook in dialog, and the URL works', async () => {
    const [hookId] = await nodeIds(page, 'imis-webhook-in');
    await openNode(page, hookId);
    const urlInput = page.locator('#node-input-url');
    await urlInput.waitFor({ state: 'visible' });
    const pattern = new RegExp(`^http://127\\.0\\.0\\.1:${red!.port}/imis/hook/[A-Za-z0-9_-]{32,}$`);
    await page.waitForFunction((re) => {
      const input = document.getElementById('node-input-url');
      return new RegExp(re).test(input instanceof HTMLInputElement ? input.value : '');
    }, pattern.source);
    hookUrl = await urlInput.inputValue();
    assert.match(hookUrl, pattern);
    // Let the "Imported" / "Successfully deployed" notifications fade so the dialog shows whole.
    await page
      .locator('.red-ui-notification:visible')
      .first()
      .waitFor({ state: 'hidden', timeout: 8000 })
      .catch(() => undefined);
    await page.screenshot({ path: SCREENSHOT });
    await page.locator('#node-dialog-cancel').click();
    await page.locator('#node-dialog-cancel').waitFor({ state: 'detached' });

    const res = await fetch(hookUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(SEED_PAYLOAD),
      signal: AbortSignal.timeout(10_000),
    });
    const body = await res.text();
    assert.equal(res.status, 200, body);
    assert.equal(JSON.parse(body).error, false);
    await waitFor(
      () => emulator!.state.activitiesFor('12345').length > activitiesBefore,
      10_000,
      'the new activity',
    );
    assert.equal(
      emulator!.state.activitiesFor('12345').length,
      activitiesBefore + 1,
      'one new activity for 12345',
    );
  });

  it('shows the run in the "iMIS runs" sidebar, green, with its steps', async () => {
    await page.evaluate(() => window.RED.sidebar.show('imis-runs'));
    const run = page.locator('.imis-runs-list .imis-runs-run').first();
    await run.waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await run.innerText(), /Event check-in/);
    assert.doesNotMatch(
      await page.locator('.imis-runs').innerText(),
      /imis-runs\./,
      'texts come from the catalog',
    );
    await run.click();
    const steps = page.locator('.imis-runs-steps li');
    await steps.first().waitFor({ state: 'visible', timeout: 10_000 });
    const names = await steps.allInnerTexts();
    assert.ok(
      names.some((n) => /Attendance activity/.test(n)),
      `steps: ${names.join(', ')}`,
    );
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-runs.png') });
  });

  it('saves the URL it shows with the deployed credentials (it survives a restart)', () => {
    const token = hookUrl.split('/').pop() as string;
    assert.ok(token.length >= 32, 'the webhook URL was read from its dialog (previous test)');
    const stored = JSON.parse(readFileSync(join(red!.userDir, 'flows_cred.json'), 'utf8'));
    const [hookId] = Object.keys(stored).filter((id) => 'token' in stored[id]);
    assert.ok(hookId, 'flows_cred.json holds a webhook token');
    assert.equal(stored[hookId].token, token, 'the token in flows_cred.json is the one the editor shows');
  });

  it('keeps the webhook token and the password out of exported flow JSON and GET /flows', async () => {
    const token = hookUrl.split('/').pop() as string;
    assert.ok(token.length >= 32, 'the webhook URL was read from its dialog (previous test)');

    await menu(page, 'menu-item-export');
    await page.locator('#red-ui-clipboard-dialog-export-rng-full').click();
    const exported = await page.locator('#red-ui-clipboard-dialog-export-text').inputValue();
    await page.locator('#red-ui-clipboard-dialog-cancel').click();
    const exportedFlows = JSON.parse(exported) as Record<string, unknown>[];
    assert.ok(
      exportedFlows.some((n) => n.type === 'imis-webhook-in'),
      'the export holds the webhook node',
    );

    const admin = await fetch(`${red!.url}/flows`);
    assert.equal(admin.status, 200);
    const adminText = await admin.text();
    assert.ok(adminText.includes('imis-webhook-in'), 'GET /flows holds the webhook node');

    for (const [what, text] of [
      ['exported flow JSON', exported],
      ['GET /flows', adminText],
    ]) {
      assert.ok(!text.includes(token), `${what} does not contain the webhook token`);
      // The example's tab description mentions "password manager" in prose: look for the value itself.
      assert.ok(!text.includes(JSON.stringify(PASSWORD)), `${what} does not contain the password`);
      assert.ok(
        !/"(credentials|password)"\s*:/.test(text),
        `${what} has no credentials or password property`,
      );
    }
  });

  it('raised no errors in the browser', () => {
    assert.deepEqual(pageErrors, []);
  });
});
