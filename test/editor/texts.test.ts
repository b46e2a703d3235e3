// Every text the package puts in the editor comes from its catalogs: a message key that Node-RED
// cannot resolve is shown raw (e.g. `imis-webhook-in.notify.copied`). This file looks for such keys
// in the palette, every node's dialog, the node statuses, the debug sidebar, notifications and
// popovers, and the Node-RED log.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { NODE_RED_PKG } from './red-process.js';
import { cancelDialog, editNode, trayInPlace, useEditorPage } from './session.js';
import type { EditorSession } from './session.js';

const TAB = 'texts-tab';
/** One node of each of the package's types; the iMIS nodes have no server, the server is unused. */
function flow(emulatorUrl: string): Record<string, unknown>[] {
  const at = (i: number) => ({ z: TAB, x: 160 + 220 * (i % 4), y: 80 + 100 * Math.floor(i / 4) });
  const nodes: Record<string, unknown>[] = [
    {
      id: 'tx-inject',
      type: 'inject',
      props: [{ p: 'payload' }],
      payload: '{}',
      payloadType: 'json',
      wires: [['tx-activity', 'tx-panel', 'tx-iqa']],
    },
    {
      id: 'tx-activity',
      type: 'imis-insert-activity',
      fields: { partyId: '1', activityType: 'MEETING' },
      wires: [[]],
    },
    { id: 'tx-panel', type: 'imis-insert-panel', panel: 'ABC_EventAttendance', wires: [[]] },
    { id: 'tx-iqa', type: 'imis-iqa', path: '$/Common/Queries/Activities/By Type', wires: [[]] },
    { id: 'tx-hook', type: 'imis-webhook-in', wires: [[]] },
    { id: 'tx-change', type: 'imis-change-in', wires: [[]] },
    { id: 'tx-export', type: 'imis-export', wires: [[]] },
    { id: 'tx-schema', type: 'imis-schema-validate', wires: [[]] },
    { id: 'tx-cron', type: 'imis-cron', expression: '0 0 9 * * ? *', timeZone: 'UTC', wires: [[]] },
    {
      id: 'tx-iupdate',
      type: 'imis-iupdate',
      tasks: [{ name: 'refresh', kind: 'polling', wait: true, queryParameters: '', timeoutSec: 60 }],
      wires: [[]],
    },
    { id: 'tx-api', type: 'imis-api', method: 'POST', path: '/api/Activity', wires: [[]] },
    { id: 'tx-delta', type: 'imis-delta', keyColumn: 'ID', removedOutput: true, outputs: 2, wires: [[], []] },
  ].map((n, i) => ({ ...n, ...at(i) }));
  return [
    { id: TAB, type: 'tab', label: 'Texts' },
    ...nodes,
    { id: 'tx-server', type: 'imis-server', name: 'texts server', baseUrl: emulatorUrl },
  ];
}

/** A whole text that is a message key, or one with a catalog section inside it. */
const KEY_TEXT =
  /^(?:[\w@/.-]+:)?imis-[\w-]+\.[\w.-]+$|\.(?:notify|label|errors|status|placeholder|tip|option|build)\./;
/** A key of the package's catalogs anywhere in a log line. */
const KEY_IN_LOG =
  /imis-[a-z-]+\.(?:label|notify|errors|status|warn|log|tip|placeholder|option|build)\.[\w.-]+/;

/** The texts under `selector` (text, placeholders, titles, option labels) that look like keys. */
async function keysShown(page: Page, selector: string): Promise<string[]> {
  const texts = await page.evaluate((sel) => {
    const out: string[] = [];
    for (const root of Array.from(document.querySelectorAll(sel))) {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
      for (let n: Node | null = walker.currentNode; n; n = walker.nextNode()) {
        if (n.nodeType === Node.TEXT_NODE) {
          const parent = n.parentElement?.tagName;
          if (parent !== 'SCRIPT' && parent !== 'STYLE' && n.textContent?.trim())
            out.push(n.textContent.trim());
        } else {
          for (const a of ['placeholder', 'title', 'aria-label', 'label']) {
            const v = (n as Element).getAttribute(a);
            if (v?.trim()) out.push(v.trim());
          }
        }
      }
    }
    return out;
  }, selector);
  return texts.filter((t) => KEY_TEXT.test(t));
}

/**
 * Waits until the editor tray has slid in (its dialog's requests are made as it opens) and no
 * request is in flight (the dialogs fill themselves from the runtime).
 */
async function settled(page: Page): Promise<void> {
  await trayInPlace(page);
  await page.waitForFunction(() => window.$.active === 0);
}

describe(`Editor texts: ${NODE_RED_PKG}, no message key shown raw`, function () {
  this.timeout(90_000);
  let session: EditorSession;
  let page: Page;
  const pageErrors: string[] = [];
  const found: Record<string, string[]> = {};
  /** The Copy buttons' confirmations, by node. */
  const copied: Record<string, string> = {};
  const note = (where: string, keys: string[]) => {
    if (keys.length) found[where] = [...(found[where] ?? []), ...keys];
  };

  useEditorPage(
    'texts',
    { flows: (s) => flow(s.emulator.url), errors: pageErrors, tab: TAB },
    (file) => ({ session, page } = file),
  );

  it('shows the palette from the catalogs', async () => {
    const labels = await page.locator('#red-ui-palette-container-iMIS .red-ui-palette-label').allInnerTexts();
    assert.ok(labels.includes('webhook in'), `palette: ${labels.join(', ')}`);
    assert.deepEqual(await keysShown(page, '#red-ui-palette'), []);
  });

  it('shows the status of nodes without a server in words', async () => {
    const status = page.locator('[id="tx-activity"] .red-ui-flow-node-status-label');
    await status.waitFor({ state: 'visible' });
    assert.equal(await status.textContent(), 'no iMIS server');
    assert.deepEqual(await keysShown(page, '#red-ui-workspace-chart'), []);
  });

  it('shows the errors of nodes without a server in words in the debug sidebar and the log', async () => {
    await page.evaluate(() => window.RED.sidebar.show('debug'));
    const res = await fetch(`${session.red.url}/inject/tx-inject`, { method: 'POST' });
    assert.equal(res.status, 200);
    const messages = page.locator('.red-ui-debug-msg', { hasText: 'No iMIS server configured' });
    await messages.nth(2).waitFor({ state: 'visible', timeout: 10_000 });
    assert.deepEqual(await keysShown(page, '#red-ui-sidebar'), []);
    const logged = session.red
      .output()
      .split('\n')
      .filter((line) => KEY_IN_LOG.test(line));
    assert.deepEqual(logged, []);
  });

  it('shows every node dialog, and the server configuration dialog, from the catalogs', async () => {
    const ids = flow('')
      .filter((n) => n.z === TAB && String(n.type).startsWith('imis-'))
      .map((n) => String(n.id));
    for (const id of ids) {
      await editNode(page, id);
      await settled(page);
      note(id, await keysShown(page, '.red-ui-tray'));
      if (await page.locator('#node-input-url-copy').isVisible()) {
        await page.locator('#node-input-url-copy').click();
        const popover = page.locator('.red-ui-popover:visible').first();
        await popover.waitFor({ state: 'visible' });
        copied[id] = (await popover.innerText()).trim();
        note('popover', await keysShown(page, '.red-ui-popover'));
      }
      if (id === 'tx-hook') {
        await page.locator('#node-input-url-regenerate').click();
        await page.locator('.red-ui-notification').first().waitFor({ state: 'visible' });
        note('notification', await keysShown(page, '.red-ui-notification'));
      }
      await cancelDialog(page);
    }
    await page.evaluate(() => window.RED.editor.editConfig('', 'imis-server', 'tx-server'));
    await page.locator('#node-config-dialog-ok').waitFor({ state: 'visible' });
    await settled(page);
    note('tx-server', await keysShown(page, '.red-ui-tray'));
    await page.locator('#node-config-dialog-cancel').click();
    await page.locator('#node-config-dialog-cancel').waitFor({ state: 'detached' });
    assert.deepEqual(found, {});
  });

  it("confirms Copy with the node's own message (webhook, change notification, export)", () => {
    assert.deepEqual(copied, {
      'tx-hook': 'Webhook URL copied',
      'tx-change': 'Endpoint URL copied',
      'tx-export': 'Public link copied',
    });
  });

  it('raised no errors in the browser', () => {
    assert.deepEqual(pageErrors, []);
  });
});
