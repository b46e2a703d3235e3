// What the editor test files share, started once for the whole run: the iMIS emulator, a real
// Node-RED (child process, 127.0.0.1, temporary user directory with this package linked in) and
// headless Chromium (Debian's /usr/bin/chromium, never downloaded). Each file opens its own page
// and, when it deploys, puts back the flows it found (restoreFlows), so files do not depend on
// each other's order.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { startEmulator } from '../../src/emulator/server.js';
import type { Emulator } from '../../src/emulator/server.js';
import { waitFor } from '../support/wait.js';
import { startNodeRed } from './red-process.js';
import type { RedProcess } from './red-process.js';

export const CHROMIUM = '/usr/bin/chromium';

export interface EditorSession {
  emulator: Emulator;
  red: RedProcess;
  browser: Browser;
}

let session: Promise<EditorSession> | undefined;

async function start(): Promise<EditorSession> {
  const emulator = await startEmulator({ port: 0 });
  const red = await startNodeRed();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return { emulator, red, browser };
}

/**
 * The shared session, started by the first file that asks. Skips the calling suite (`ctx`, a
 * `before` hook's `this`) when Chromium is missing, except on CI where that is an error.
 */
export async function editorSession(ctx: Mocha.Context): Promise<EditorSession> {
  if (!existsSync(CHROMIUM)) {
    const why = `${CHROMIUM} is missing (Debian's chromium package; no browser is ever downloaded)`;
    if (process.env.CI === 'true') throw new Error(why);
    console.log(`      skipped: ${why}`);
    ctx.skip();
  }
  session = session ?? start();
  return session;
}

// Root hook: runs once after every editor test file.
after(async () => {
  if (!session) return;
  const { browser, red, emulator } = await session;
  await browser.close();
  await red.close();
  await emulator.close();
});

/** An editor page: errors in the browser are collected in `errors`. */
export async function openEditor(s: EditorSession, errors: string[]): Promise<Page> {
  const page = await s.browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (err) => {
    // Monaco (Node-RED's code editor) throws this when a dialog holding a code editor closes before
    // the editor finished loading its model: a race inside Node-RED's editor on a slow machine.
    if (err.message.startsWith('Model is disposed!')) return;
    errors.push(`pageerror: ${err.message}`);
  });
  page.on('console', (message) => {
    const text = message.text();
    // A dialog route's error answer is shown in the dialog (e.g. a server that cannot be reached).
    const shown = /status of (400|502)/.test(text) && /\/imis\/(server|iqa)\//.test(message.location().url);
    if (shown) return;
    if (message.type() === 'error' || (message.type() === 'warning' && /imis/i.test(text))) {
      errors.push(`console ${message.type()}: ${text} (${message.location().url})`);
    }
  });
  page.on('requestfailed', (request) => errors.push(`request failed: ${request.url()}`));
  await page.goto(`${s.red.url}/`);
  await page.locator('#red-ui-header-button-deploy').waitFor({ state: 'visible', timeout: 30_000 });
  await page
    .locator('#red-ui-palette-container-iMIS .red-ui-palette-node')
    .first()
    .waitFor({ state: 'visible', timeout: 30_000 });
  // The flows load after the palette: the editor sets their revision and imports them in one go, so
  // once the revision is known the deployed nodes are there (else a test may look for them too early,
  // or import into a workspace the loading flows then replace).
  await page.waitForFunction(() => Boolean(window.RED.nodes.version()), undefined, {
    timeout: 30_000,
  });
  return page;
}

export interface EditorFile {
  session: EditorSession;
  page: Page;
}

export interface EditorFileOptions {
  /** The flows the file deploys (the flows it found are put back after it). */
  flows: (s: EditorSession) => unknown[];
  /** Where the page's browser errors are collected (see openEditor). */
  errors: string[];
  /** The tab shown once the editor is open. */
  tab?: string;
  /** Done after the deploy, before the page opens (e.g. runs for a list to show). */
  beforeOpen?: (s: EditorSession) => Promise<void>;
}

/**
 * The mocha hooks of an editor test file: the shared session, the file's flows deployed, an editor
 * page open on them; after a failed test a screenshot (/tmp/editor-<name>-failure.png), the end of
 * Node-RED's log and the debug sidebar, and no dialog left open for the next test; at the end the
 * page closed and the flows put back. `set` receives the session and the page as they are made.
 */
export function useEditorPage(
  name: string,
  options: EditorFileOptions,
  set: (file: EditorFile) => void,
): void {
  const file = {} as EditorFile;
  let flowsBefore: unknown[] | undefined;
  before(async function () {
    file.session = await editorSession(this);
    set(file);
    flowsBefore = await deployFlows(file.session, options.flows(file.session));
    await options.beforeOpen?.(file.session);
    file.page = await openEditor(file.session, options.errors);
    if (options.tab) await file.page.evaluate((tab) => window.RED.workspaces.show(tab), options.tab);
    set(file);
  });
  after(async () => {
    await file.page?.close();
    if (file.session && flowsBefore) await restoreFlows(file.session, flowsBefore);
  });
  afterEach(async function () {
    const { page, session } = file;
    if (this.currentTest?.state !== 'failed' || !page) return;
    const screenshot = `/tmp/editor-${name}-failure.png`;
    await page.screenshot({ path: screenshot }).catch(() => undefined);
    const debug = await page
      .locator('.red-ui-debug-msg')
      .allInnerTexts()
      .catch(() => []);
    console.log(
      `      (screenshot: ${screenshot})\n--- Node-RED log ---\n${session.red.output().slice(-3000)}\n` +
        `--- debug sidebar ---\n${debug.join('\n') || '(empty)'}`,
    );
    await closeDialogs(page);
  });
}

/** Cancels every open edit dialog (config node dialogs first), each once it has closed. */
export async function closeDialogs(page: Page): Promise<void> {
  for (const cancel of ['#node-config-dialog-cancel', '#node-dialog-cancel']) {
    for (let tries = 0; tries < 5; tries++) {
      const open = await page.locator(cancel).count();
      if (open === 0) break;
      await page.locator(cancel).last().click();
      await page
        .waitForFunction(([selector, n]) => document.querySelectorAll(selector).length < n, [
          cancel,
          open,
        ] as const)
        .catch(() => undefined);
    }
  }
}

/** Deploys `flows` through the admin API (a full deploy); answers what was deployed before. */
export async function deployFlows(s: EditorSession, flows: unknown[]): Promise<unknown[]> {
  const before = await (await fetch(`${s.red.url}/flows`)).json();
  const res = await fetch(`${s.red.url}/flows`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify(flows),
  });
  if (!res.ok) throw new Error(`POST /flows answered ${res.status}: ${await res.text()}`);
  return before as unknown[];
}

/** The deployed flows (GET /flows) once `check` holds for them, e.g. after the editor's Deploy. */
export function deployedFlows(
  s: EditorSession,
  check: (flows: Record<string, unknown>[]) => boolean,
  timeoutMs = 20_000,
): Promise<Record<string, unknown>[]> {
  return waitFor(
    async () => {
      const flows = (await (await fetch(`${s.red.url}/flows`)).json()) as Record<string, unknown>[];
      return check(flows) && flows;
    },
    timeoutMs,
    'the deployed flows',
    100,
  );
}

/** Puts back flows answered by deployFlows. */
export async function restoreFlows(s: EditorSession, flows: unknown[]): Promise<void> {
  await deployFlows(s, flows);
}

/** Ids of the editor's nodes (flow and config nodes) of type `type`. */
export async function nodeIds(page: Page, type: string): Promise<string[]> {
  return page.evaluate((t) => {
    const { RED } = window;
    const ids = RED.nodes.filterNodes({ type: t }).map((n) => n.id);
    RED.nodes.eachConfig((n) => {
      if (n.type === t) ids.push(n.id);
    });
    return ids;
  }, type);
}

/** Opens the edit dialog of node `id` (as a double-click on it does). */
export async function editNode(page: Page, id: string): Promise<void> {
  await page.evaluate((nodeId) => {
    const { RED } = window;
    const node = RED.nodes.node(nodeId);
    if (!node?.z) throw new Error(`no node ${nodeId} on a tab`);
    if (RED.workspaces.active() !== node.z) RED.workspaces.show(node.z);
    RED.editor.edit(node);
  }, id);
  await page.locator('#node-dialog-ok').waitFor({ state: 'visible' });
  await trayInPlace(page);
}

/**
 * Waits until the open tray has slid in (a CSS transition of its `right` edge, its width set on the
 * way), so that what a test measures in the dialog is where it stays.
 */
export async function trayInPlace(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const trays = document.querySelectorAll('.red-ui-tray');
    const tray = trays[trays.length - 1];
    return tray !== undefined && getComputedStyle(tray).right === '0px';
  });
}

/** Closes the open edit dialog with Cancel. */
export async function cancelDialog(page: Page): Promise<void> {
  await page.locator('#node-dialog-cancel').click();
  await page.locator('#node-dialog-cancel').waitFor({ state: 'detached' });
}
