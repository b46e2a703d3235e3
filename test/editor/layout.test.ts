// The editor at Node-RED's default sizes, in Chromium: the default sidebar width (about 310 px) and
// the edit tray's default width, in a 1400×900 and a 1280×720 window. Each sidebar and each node's
// dialog shows without horizontal scrolling, each form row's label on one line with its field beside
// it. The workflows sidebar's graph stays readable and its waiting instance says when it times out;
// the full-page runs view has a heading, Node-RED's stylesheet and theme, and its list and detail
// side by side. Screenshots of each view are kept under test-results/editor/ (git-ignored).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { FlowNode } from '../support/flows.js';
import { PACKAGE_ROOT } from './red-process.js';
import { deployFlows, editNode, editorSession, openEditor, restoreFlows } from './session.js';
import type { EditorSession } from './session.js';

const SHOTS = join(PACKAGE_ROOT, 'test-results', 'editor');
const TOKEN = randomBytes(24).toString('base64url');
/** A second Webhook in named as the example's, on another tab. */
const TOKEN_2 = randomBytes(24).toString('base64url');
const TAB = 'layout-tab';
const SERVER = 'c0a00000000000ff';
const WINDOWS = [
  { width: 1400, height: 900 },
  { width: 1280, height: 720 },
];
const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8'));
const TYPES = Object.keys(pkg['node-red'].nodes as Record<string, string>);
const CONFIG_TYPES = new Set(['imis-server', 'imis-workflow']);

/** The order lifecycle example (a workflow with a timeout), and a tab with one node of every other type. */
function flows(s: EditorSession): unknown[] {
  const read: FlowNode[] = JSON.parse(
    readFileSync(join(PACKAGE_ROOT, 'examples', 'order-lifecycle-workflow.json'), 'utf8'),
  );
  const example = read.map((n) => {
    if (n.type === 'imis-webhook-in') return { ...n, credentials: { token: TOKEN } };
    if (n.type === 'imis-server')
      return { ...n, baseUrl: s.emulator.url, credentials: { username: 'MANAGER', password: 'manager' } };
    return n;
  });
  const workflow = example.find((n) => n.type === 'imis-workflow')?.id;
  if (!workflow) throw new Error('the order lifecycle example has no imis-workflow');
  const nodes = TYPES.filter((t) => !CONFIG_TYPES.has(t)).map((type, i) => ({
    id: `layout-${type}`,
    z: TAB,
    type,
    name: type === 'imis-webhook-in' ? 'Order posted' : '',
    server: SERVER,
    workflow,
    x: 160 + 220 * (i % 4),
    y: 80 + 80 * Math.floor(i / 4),
    wires: [],
    ...(type === 'imis-webhook-in' ? { credentials: { token: TOKEN_2 } } : {}),
  }));
  return [...example, { id: TAB, type: 'tab', label: 'Layout' }, ...nodes];
}

/**
 * What sticks out sideways in `root`: the root or a box inside it that scrolls sideways, or an
 * element that ends right of the root (unless a box inside the root clips it).
 */
function overflowIn(root: Element): string[] {
  const name = (el: Element) =>
    el.tagName.toLowerCase() +
    (el.id ? '#' + el.id : '') +
    [...el.classList]
      .slice(0, 2)
      .map((c) => '.' + c)
      .join('');
  const edge = root.getBoundingClientRect().right;
  const found: string[] = [];
  if (root.scrollWidth > root.clientWidth + 1)
    found.push(`${name(root)} scrolls sideways (${root.scrollWidth} > ${root.clientWidth})`);
  for (const el of root.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden') continue;
    if (['auto', 'scroll'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1)
      found.push(`${name(el)} scrolls sideways (${el.scrollWidth} > ${el.clientWidth})`);
    let clipped = false;
    for (let up = el.parentElement; up && up !== root; up = up.parentElement)
      if (getComputedStyle(up).overflowX !== 'visible') clipped = true;
    if (!clipped && box.right > edge + 1)
      found.push(`${name(el)} ends at ${Math.round(box.right)} > ${Math.round(edge)}`);
  }
  return found;
}

/**
 * The form rows of a dialog whose label takes more than one line, or whose field is not beside its
 * label (wrapped under it).
 */
function wrappedRows(form: Element): string[] {
  const found: string[] = [];
  for (const row of form.querySelectorAll('.form-row')) {
    const label = row.querySelector(':scope > label');
    if (!label || label.getBoundingClientRect().height === 0 || !label.textContent?.trim()) continue;
    const text = label.textContent.trim();
    const style = getComputedStyle(label);
    const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.4;
    const box = label.getBoundingClientRect();
    if (Math.round(box.height / line) > 1)
      found.push(`"${text}" takes ${Math.round(box.height / line)} lines`);
    if (label.scrollWidth > label.clientWidth + 1) found.push(`"${text}" is cut short`);
    const field = [...row.children].find(
      (el) =>
        el !== label &&
        el.matches(
          'input:not([type=hidden]), select, textarea, button, .red-ui-typedInput-container, span',
        ) &&
        el.getBoundingClientRect().height > 0,
    );
    if (!field) continue;
    const f = field.getBoundingClientRect();
    if (f.top >= box.bottom - 2 || f.left < box.right - 2)
      found.push(`"${text}": its field is not beside it (${Math.round(f.left)},${Math.round(f.top)})`);
  }
  return found;
}

describe('Editor: comfortable at Node-RED default sizes (sidebars and dialogs)', function () {
  this.timeout(300_000);
  let session: EditorSession;
  let page: Page;
  let flowsBefore: unknown[] = [];
  const pageErrors: string[] = [];
  const key = `SO-LAYOUT-${Date.now()}`;

  before(async function () {
    session = await editorSession(this);
    flowsBefore = await deployFlows(session, flows(session));
    mkdirSync(SHOTS, { recursive: true });
    console.log(`      screenshots: ${SHOTS}`);
    page = await openEditor(session, pageErrors);
    // An order waiting in SUBMITTED, which times out after 48 hours; a run of the other "Order
    // posted". Posted once the flows have started (503 until then).
    for (const token of [TOKEN, TOKEN_2]) {
      const post = () =>
        fetch(`${session.red.url}/imis/hook/${token}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ orderId: key, memberId: '12345' }),
        });
      let res = await post();
      for (let i = 0; i < 100 && res.status === 503; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        res = await post();
      }
      assert.equal(res.status, 200, await res.text());
    }
  });
  after(async () => {
    await page?.close();
    if (session) await restoreFlows(session, flowsBefore);
  });

  const shot = (name: string, target: Page = page) => target.screenshot({ path: join(SHOTS, `${name}.png`) });
  // The sidebar's content box, as our panel fills it (Node-RED 4 and 5 name its container apart).
  const sidebarContent = () => page.locator('.imis-runs');

  for (const size of WINDOWS) {
    const at = `${size.width}x${size.height}`;

    it(`shows the iMIS runs sidebar without horizontal scrolling, its run list filling the height (${at})`, async () => {
      await page.setViewportSize(size);
      await page.evaluate(() => window.RED.sidebar.show('imis-runs'));
      // All flows, no run open (a change of filter closes it).
      for (const flow of ['.current', '']) await page.locator('.imis-runs-flow').selectOption(flow);
      await page
        .locator('.imis-runs-list .imis-runs-run')
        .first()
        .waitFor({ state: 'visible', timeout: 15_000 });
      assert.equal(await page.locator('.imis-runs-run-detail').count(), 0);
      const width = await sidebarContent().evaluate((el) => el.getBoundingClientRect().width);
      assert.ok(width >= 280 && width <= 340, `the sidebar at its default width (${width} px)`);
      assert.deepEqual(await page.locator('.imis-runs').evaluate(overflowIn), []);
      // No run open: the list goes down to the bottom of the sidebar (less the controls under it).
      const [list, sidebar] = await Promise.all([
        page.locator('.imis-runs-list').boundingBox(),
        sidebarContent().boundingBox(),
      ]);
      assert.ok(
        list && sidebar && sidebar.y + sidebar.height - (list.y + list.height) < 120,
        'the list fills the sidebar',
      );
      await page.locator('.imis-runs-list .imis-runs-run').first().click();
      await page.locator('.imis-runs-run-detail').waitFor({ state: 'visible' });
      assert.deepEqual(await page.locator('.imis-runs').evaluate(overflowIn), []);
      await shot(`sidebar-runs-${at}`);
    });

    it(`shows the iMIS workflows sidebar without horizontal scrolling, the graph readable and when an instance times out (${at})`, async () => {
      await page.setViewportSize(size);
      await page.evaluate(() => window.RED.sidebar.show('imis-workflows'));
      const row = page.locator('.imis-wf-list tr[data-code="ORDER_LIFECYCLE"]');
      await row.waitFor({ state: 'visible', timeout: 15_000 });
      await row.click();
      const instance = page.locator(`.imis-wf-instances tr[data-key="${key}"]`);
      await instance.waitFor({ state: 'visible', timeout: 15_000 });
      const graph = page.locator('.imis-wf-graph-box svg.imis-wf-graph');
      await graph.waitFor({ state: 'visible' });
      // Readable: the state names drawn at 9 px or more.
      const heights = await graph
        .locator('[data-state] text')
        .evaluateAll((texts) => texts.map((t) => t.getBoundingClientRect().height));
      assert.ok(
        heights.length === 4 && Math.min(...heights) >= 9,
        `state names ${heights.join(', ')} px high`,
      );
      // The edge labels beside their edges, not on them.
      const label = await graph.locator('[data-transition="SUBMIT"] text').boundingBox();
      const line = await graph.locator('[data-transition="SUBMIT"] path').boundingBox();
      assert.ok(label && line, 'SUBMIT drawn');
      assert.ok(
        label.x >= line.x + line.width / 2 || label.y + label.height <= line.y + line.height / 2,
        `SUBMIT beside its edge, not on it (label ${JSON.stringify(label)}, edge ${JSON.stringify(line)})`,
      );
      const timesOut = instance.locator('.imis-wf-times-out');
      assert.match(await timesOut.innerText(), /\d/, 'the time SUBMITTED times out');
      assert.ok(
        Math.abs(
          Date.parse(await timesOut.evaluate((td) => td.getAttribute('data-due') ?? '')) -
            Date.now() -
            48 * 3600e3,
        ) < 3600e3,
        'in 48 hours',
      );
      assert.deepEqual(await page.locator('.imis-workflows').evaluate(overflowIn), []);
      await shot(`sidebar-workflows-${at}`);
      await instance.scrollIntoViewIfNeeded();
      await shot(`sidebar-workflows-instances-${at}`);
      // Open large: the graph at its actual size in a dialog.
      await page.locator('.imis-wf-graph-open').click();
      const large = page.locator('.imis-wf-graph-large svg');
      await large.waitFor({ state: 'visible' });
      const big = await large.locator('[data-state="SUBMITTED"] text').boundingBox();
      assert.ok(big && big.height >= 11, 'the graph at actual size');
      await shot(`sidebar-workflows-graph-${at}`);
      await page.locator('.ui-dialog:has(.imis-wf-graph-large) .ui-dialog-titlebar-close').click();
    });
  }

  for (const type of TYPES) {
    it(`shows the ${type} dialog without horizontal scrolling, each label on one line beside its field`, async () => {
      await page.setViewportSize(WINDOWS[0]);
      const config = CONFIG_TYPES.has(type);
      if (config) {
        await page.evaluate((t) => {
          const { RED } = window;
          let id = '';
          RED.nodes.eachConfig((n) => {
            if (n.type === t) id = id || n.id;
          });
          RED.editor.editConfig('', t, id);
        }, type);
        await page.locator('#node-config-dialog-ok').waitFor({ state: 'visible' });
      } else {
        await editNode(page, `layout-${type}`);
      }
      const form = page.locator(config ? '#node-config-dialog-edit-form' : '#dialog-form');
      // Let the dialog settle (lists filled, rows shown or hidden by their choices): a window for a
      // late layout change to show, as a user would see it, not a wait for one event.
      await page.waitForTimeout(500);
      const title = await page.locator('.red-ui-tray-titlebar').last().innerText();
      const seen = {
        title: /imis-/.test(title) ? `"${title}" names the type` : 'names the node',
        overflow: [
          ...(await form.evaluate(overflowIn)),
          ...(await page
            .locator('.red-ui-tray-body')
            .last()
            .evaluate((el) => (el.scrollWidth > el.clientWidth + 1 ? ['the tray scrolls sideways'] : []))),
        ],
        wrapped: await form.evaluate(wrappedRows),
      };
      await shot(`dialog-${type}`);
      await page.locator(config ? '#node-config-dialog-cancel' : '#node-dialog-cancel').click();
      await page.locator('.red-ui-tray').first().waitFor({ state: 'detached' });
      assert.deepEqual(seen, { title: 'names the node', overflow: [], wrapped: [] });
    });
  }

  it('opens the workflow dialog with its States and Transitions lists at the top, From/To wide enough for SUBMITTED', async () => {
    await page.evaluate(() => {
      const { RED } = window;
      let id = '';
      RED.nodes.eachConfig((n) => {
        if (n.type === 'imis-workflow' && n.code === 'ORDER_LIFECYCLE') id = n.id;
      });
      RED.editor.editConfig('', 'imis-workflow', id);
    });
    await page.locator('#node-config-dialog-ok').waitFor({ state: 'visible' });
    // A window for a late scroll (the defect was lists scrolled down once filled) to happen.
    await page.waitForTimeout(500);
    const scrolls = await page
      .locator('#node-config-dialog-edit-form .red-ui-editableList-container')
      .evaluateAll((boxes) => boxes.map((b) => b.scrollTop));
    assert.deepEqual(scrolls, [0, 0], 'both lists at their top');
    const fits = await page
      .locator(
        '#node-config-input-transitions-list .imis-wf-transition-from, #node-config-input-transitions-list .imis-wf-transition-to',
      )
      .evaluateAll((inputs) =>
        inputs
          .filter((i) => (i as HTMLInputElement).value === 'SUBMITTED')
          .map((i) => i.scrollWidth <= i.clientWidth),
      );
    assert.ok(fits.length > 0 && fits.every(Boolean), 'SUBMITTED shows whole');
    await page.locator('#node-config-dialog-cancel').click();
    await page.locator('.red-ui-tray').first().waitFor({ state: 'detached' });
  });

  it('tells two triggers of the same name apart in the trigger filter by their flows', async () => {
    await page.evaluate(() => window.RED.sidebar.show('imis-runs'));
    await page.locator('.imis-runs-flow').selectOption('');
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('.imis-runs-trigger option')].filter((o) =>
          /^Order posted/.test(o.textContent ?? ''),
        ).length === 2,
    );
    const labels = await page.locator('.imis-runs-trigger option').allInnerTexts();
    assert.deepEqual(labels.filter((l) => l.startsWith('Order posted')).sort(), [
      'Order posted (Layout)',
      'Order posted (Order lifecycle workflow)',
    ]);
  });

  it('shows the full-page runs view with a heading, Node-RED controls and theme, list and detail side by side', async () => {
    await page.setViewportSize(WINDOWS[0]);
    await page.evaluate(() => window.RED.sidebar.show('imis-runs'));
    // A dark editor theme: the page takes the editor's colours.
    await page.evaluate(() =>
      document.documentElement.style.setProperty('--red-ui-primary-background', 'rgb(30, 30, 30)'),
    );
    const [full] = await Promise.all([page.waitForEvent('popup'), page.locator('.imis-runs-full').click()]);
    await full.setViewportSize(WINDOWS[0]);
    await full
      .locator('.imis-runs-list .imis-runs-run')
      .first()
      .waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await full.locator('h1').innerText(), 'iMIS runs');
    const look = await full.evaluate(() => ({
      background: getComputedStyle(document.body).backgroundColor,
      stylesheet: [...document.styleSheets].some((s) => /red\/style\.min\.css/.test(s.href ?? '')),
    }));
    assert.deepEqual(
      { background: look.background, stylesheet: look.stylesheet },
      { background: 'rgb(30, 30, 30)', stylesheet: true },
    );
    await full.locator('.imis-runs-list .imis-runs-run').first().click();
    await full.locator('.imis-runs-run-detail').waitFor({ state: 'visible' });
    const [list, detail] = [
      await full.locator('.imis-runs-list').boundingBox(),
      await full.locator('.imis-runs-detail').boundingBox(),
    ];
    assert.ok(list && detail && detail.x >= list.x + list.width, 'the detail beside the list');
    assert.deepEqual(await full.locator('body').evaluate(overflowIn), []);
    await shot('runs-view-1400x900', full);
    await full.close();
    await page.evaluate(() => document.documentElement.style.removeProperty('--red-ui-primary-background'));
  });

  it('raised no errors in the browser', () => {
    assert.deepEqual(pageErrors, []);
  });
});
