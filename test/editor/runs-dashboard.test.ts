// The Runs dashboard in the "iMIS runs" sidebar, as an operator uses it after a transient iMIS
// outage: filter to failed runs, search a member ID, re-run them all after a confirmation, and see
// each new run linked to its original. Real Node-RED, real Chromium (see session.ts).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { quietWindow, waitFor } from '../support/wait.js';
import { useEditorPage } from './session.js';
import type { EditorSession } from './session.js';

const TAB = 'runs-dash-tab';
const EMPTY_TAB = 'runs-dash-empty';
const MEMBER = '12345';

describe('Editor: the Runs dashboard', function () {
  this.timeout(90_000);

  let session: EditorSession;
  let page: Page;
  const pageErrors: string[] = [];
  const token = randomBytes(24).toString('base64url');
  const failedIds: string[] = [];

  const post = async (memberId: string): Promise<string> => {
    // Right after a deploy the hook answers 503 until the flows have started.
    return waitFor(
      async () => {
        const res = await fetch(`${session.red.url}/imis/hook/${token}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ memberId, eventCode: 'CONF2026' }),
        });
        if (res.status === 200) return ((await res.json()) as { id: string }).id;
        if (res.status !== 503) throw new Error(`hook answered ${res.status}: ${await res.text()}`);
        return undefined;
      },
      10_000,
      'the hook to accept a call',
      100,
    );
  };
  /** Posts a body that is not JSON: the hook rejects it (400) before any run. */
  const postBad = async (marker: string) => {
    const res = await fetch(`${session.red.url}/imis/hook/${token}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: `{"memberId": ${marker}}`,
    });
    assert.equal(res.status, 400);
  };
  /** Waits for the rejected calls count of `where` to pass `count`. */
  const rejectedMore = (where: Page, count: number) =>
    where.waitForFunction(
      (n) => Number(document.querySelector('.imis-runs-rejected')?.getAttribute('data-count')) > n,
      count,
      { timeout: 15_000 },
    );
  const rejectedCount = async (where: Page) =>
    Number(await where.locator('.imis-runs-rejected').getAttribute('data-count'));
  const runOf = async (id: string) =>
    (await (await fetch(`${session.red.url}/imis/runs/${id}`)).json()) as {
      status: string;
      reruns?: string[];
    };
  const settled = (id: string) =>
    waitFor(
      async () => {
        const run = await runOf(id);
        return run.status && run.status !== 'running' && run;
      },
      10_000,
      `run ${id} to settle`,
      50,
    );

  const flows = (): unknown[] => [
    { id: TAB, type: 'tab', label: 'Runs dashboard' },
    { id: EMPTY_TAB, type: 'tab', label: 'No runs here' },
    {
      id: 'runs-dash-hook',
      z: TAB,
      type: 'imis-webhook-in',
      name: 'Check-in hook',
      x: 150,
      y: 100,
      wires: [['runs-dash-label']],
      credentials: { token },
    },
    {
      id: 'runs-dash-manual',
      z: TAB,
      type: 'imis-manual',
      name: 'Check-in by hand',
      input: '{"memberId":"12345","eventCode":"CONF2026"}',
      x: 150,
      y: 180,
      wires: [['runs-dash-review']],
    },
    {
      id: 'runs-dash-review',
      z: TAB,
      type: 'delay',
      name: 'Hold for review',
      pauseType: 'delay',
      timeout: '4',
      timeoutUnits: 'seconds',
      x: 300,
      y: 180,
      wires: [['runs-dash-label']],
    },
    {
      id: 'runs-dash-label',
      z: TAB,
      type: 'change',
      name: 'Key and values',
      rules: [
        { t: 'set', p: 'imis.businessKey', pt: 'msg', to: '"M" & payload.memberId', tot: 'jsonata' },
        { t: 'set', p: 'imis.values', pt: 'msg', to: '{"event": payload.eventCode}', tot: 'jsonata' },
      ],
      x: 300,
      y: 100,
      wires: [['runs-dash-insert']],
    },
    {
      id: 'runs-dash-insert',
      z: TAB,
      type: 'imis-insert-activity',
      name: 'Attendance',
      server: 'runs-dash-srv',
      fields: { partyId: '{{ input.memberId }}', activityType: 'MEETING' },
      x: 400,
      y: 100,
      wires: [[]],
    },
    {
      id: 'runs-dash-srv',
      type: 'imis-server',
      baseUrl: session.emulator.url,
      retries: 0,
      credentials: { username: 'MANAGER', password: 'manager' },
    },
  ];
  useEditorPage(
    'runs-dashboard',
    {
      flows,
      errors: pageErrors,
      beforeOpen: async () => {
        // iMIS refuses three check-ins of one member for a while (a transient outage); an unknown
        // member fails for good; another check-in goes through.
        session.emulator.state.injectFault({
          method: 'POST',
          pathPrefix: '/api/Activity',
          status: 503,
          times: 3,
          body: { Message: 'Service unavailable' },
        });
        for (let i = 0; i < 3; i++) failedIds.push(await post(MEMBER));
        for (const id of failedIds) assert.equal((await settled(id)).status, 'failed');
        assert.equal((await settled(await post('99999'))).status, 'failed');
        assert.equal((await settled(await post(MEMBER))).status, 'ok');
      },
    },
    (file) => ({ session, page } = file),
  );
  before(() =>
    page.evaluate((tab) => {
      const { RED } = window;
      RED.workspaces.show(tab);
      RED.sidebar.show('imis-runs');
    }, TAB),
  );

  const items = () => page.locator('.imis-runs-list .imis-runs-run');
  const counts = () => page.locator('.imis-runs-counts').innerText();

  it('lists the runs of the open flow with counts, status in words and durations', async () => {
    await items().nth(4).waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await items().count(), 5);
    assert.match(await counts(), /1 succeeded/);
    assert.match(await counts(), /4 failed/);
    const first = await items().first().innerText();
    assert.match(first, /succeeded/);
    assert.match(first, /\d+(\.\d)? m?s/);
    assert.doesNotMatch(await page.locator('.imis-runs').innerText(), /imis-runs\.|dashboard\./);
  });

  it('filters to failed runs and searches a member ID', async () => {
    await page.locator('.imis-runs-status-filter').selectOption('failed');
    await page.waitForFunction(
      () => document.querySelectorAll('.imis-runs-list .imis-runs-run').length === 4,
    );
    assert.ok((await items().allInnerTexts()).every((t) => /failed/.test(t)));
    await page.locator('.imis-runs-search-mode').selectOption('q');
    await page.locator('.imis-runs-search-input').fill(MEMBER);
    await page.locator('.imis-runs-search-input').press('Enter');
    await page.waitForFunction(
      () => document.querySelectorAll('.imis-runs-list .imis-runs-run').length === 3,
    );
    const shown = await items().evaluateAll((lis) => lis.map((li) => li.getAttribute('data-id')));
    assert.deepEqual([...shown].sort(), [...failedIds].sort());
    assert.match(await counts(), /3 failed/);
  });

  it("opens a run with the keyboard and shows its error and its steps' payloads", async () => {
    await page.locator('.imis-runs-list').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const detail = page.locator('.imis-runs-run-detail');
    await detail.waitFor({ state: 'visible' });
    const selected = await page.locator('.imis-runs-run[aria-selected="true"]').getAttribute('data-id');
    assert.equal(await detail.getAttribute('data-id'), selected);
    assert.match(
      await page.locator('.imis-runs-detail .imis-runs-error').first().innerText(),
      /Service unavailable|503/,
    );
    const previews = await page.locator('.imis-runs-detail .imis-runs-preview').allTextContents();
    assert.ok(
      previews.some((p) => p.includes(MEMBER)),
      `payload previews: ${previews.join(' | ')}`,
    );
  });

  it("keeps the reader's scroll position in the detail while it refreshes", async () => {
    // A short detail pane, scrolled down; a run that finishes refreshes the list and the open run.
    const top = await page.evaluate(() => {
      const detail = document.querySelector('.imis-runs-detail') as HTMLElement;
      detail.style.flex = '0 0 60px';
      detail.scrollTop = 40;
      document.querySelector('.imis-runs-run-detail')!.setAttribute('data-stale', 'yes');
      return detail.scrollTop;
    });
    assert.ok(top > 0, 'the detail scrolls');
    await settled(await post('99999'));
    await page.waitForFunction(
      () => !document.querySelector('.imis-runs-run-detail[data-stale]'),
      undefined,
      {
        timeout: 15_000,
      },
    );
    assert.equal(await page.evaluate(() => document.querySelector('.imis-runs-detail')!.scrollTop), top);
    await page.evaluate(() => ((document.querySelector('.imis-runs-detail') as HTMLElement).style.flex = ''));
  });

  it('re-runs every failed run the filter selects after a confirmation, and links the new runs', async () => {
    const before = session.emulator.state.activitiesFor(MEMBER).length;
    await page.locator('.imis-runs-bulk').click();
    const dialog = page.locator('.red-ui-notification', { hasText: 'Re-run 3 failed run' });
    await dialog.waitFor({ state: 'visible' });
    await dialog.locator('.imis-runs-confirm').click();
    await waitFor(
      () => session.emulator.state.activitiesFor(MEMBER).length >= before + 3,
      10_000,
      'three re-run inserts',
    );
    assert.equal(session.emulator.state.activitiesFor(MEMBER).length, before + 3, 'three re-run inserts');

    // The detail of the open original lists its re-run, which links back to it.
    const original = (await page.locator('.imis-runs-run-detail').getAttribute('data-id')) as string;
    const rerunLink = page.locator('.imis-runs-detail .imis-runs-reruns a');
    await rerunLink.first().waitFor({ state: 'visible', timeout: 15_000 });
    const rerunId = (await rerunLink.first().getAttribute('data-id')) as string;
    assert.deepEqual((await runOf(original)).reruns, [rerunId]);
    await rerunLink.first().click();
    await page.waitForFunction(
      (id) => document.querySelector('.imis-runs-run-detail')?.getAttribute('data-id') === id,
      rerunId,
    );
    assert.match(await page.locator('.imis-runs-run-detail').innerText(), /succeeded/);
    const back = page.locator('.imis-runs-detail .imis-runs-original a');
    assert.equal(await back.getAttribute('data-id'), original);

    // Every original now has exactly one re-run, and none is left to re-run.
    for (const id of failedIds) assert.equal((await runOf(id)).reruns?.length, 1);
    await page.locator('.imis-runs-status-filter').selectOption('succeeded');
    await page.waitForFunction(
      () => document.querySelectorAll('.imis-runs-list .imis-runs-run').length === 4,
    );
    assert.equal(await page.locator('.imis-runs-list .imis-runs-meta', { hasText: 're-run' }).count(), 3);
    await page.screenshot({ path: '/tmp/editor-runs-dashboard.png' });
  });

  it('lists a call the hook rejected as it happens: time, endpoint, status, reason and address, no body', async () => {
    const before = await rejectedCount(page);
    await postBad('zqBadBody1');
    // No refresh asked for: the runtime's comms event brings it.
    await rejectedMore(page, before);
    const section = page.locator('.imis-runs-rejected');
    assert.match(
      await section.locator('summary').innerText(),
      new RegExp(`Rejected calls \\(${before + 1}\\)`),
    );
    await section.locator('summary').click();
    const call = section.locator('.imis-runs-rejected-call').first();
    await call.waitFor({ state: 'visible' });
    const text = await call.innerText();
    assert.match(text, /400/);
    assert.match(text, /Check-in hook/);
    assert.match(text, /Invalid JSON body/);
    assert.match(text, /from (::ffff:)?127\.0\.0\.1/);
    assert.doesNotMatch(text, /zqBadBody1/);
    assert.doesNotMatch(await section.innerText(), /dashboard\.|imis-runs\./);
  });

  it('opens the full-page view from the sidebar, with the same dashboard over every flow', async () => {
    const [full] = await Promise.all([
      page.context().waitForEvent('page'),
      page.locator('.imis-runs-full').click(),
    ]);
    const errors: string[] = [];
    full.on('pageerror', (err) => errors.push(err.message));
    await full.waitForLoadState();
    assert.match(await full.title(), /iMIS runs/);
    const rows = full.locator('.imis-runs-list .imis-runs-run');
    await rows.nth(7).waitFor({ state: 'visible', timeout: 15_000 });
    await full.locator('.imis-runs-status-filter').selectOption('failed');
    await full.waitForFunction(() =>
      [...document.querySelectorAll('.imis-runs-list .imis-runs-run')].every((li) =>
        /failed/.test(li.textContent ?? ''),
      ),
    );
    assert.match(await full.locator('.imis-runs-counts').innerText(), /\d+ failed/);
    assert.doesNotMatch(await full.locator('body').innerText(), /dashboard\.|imis-runs\./);
    // Live from the runtime's comms, as the sidebar: a rejected call shows without waiting for a poll.
    await full.locator('body[data-live="comms"]').waitFor({ state: 'attached', timeout: 15_000 });
    const before = await rejectedCount(full);
    await postBad('zqBadBody2');
    await rejectedMore(full, before);
    await full.locator('.imis-runs-rejected summary').click();
    assert.match(await full.locator('.imis-runs-rejected-call').first().innerText(), /400.*Check-in hook/s);
    await full.close();
    assert.deepEqual(errors, []);
  });

  it('clears the detail when the selected flow has no runs', async () => {
    await page.locator('.imis-runs-list .imis-runs-run').first().click();
    await page.locator('.imis-runs-run-detail').waitFor({ state: 'visible' });
    await page.evaluate((tab) => window.RED.workspaces.show(tab), EMPTY_TAB);
    await page.locator('.imis-runs-none').waitFor({ state: 'visible' });
    assert.equal(await page.locator('.imis-runs-run-detail').count(), 0);
  });

  it("shows each run's business key in the list and its values in the detail", async () => {
    await page.evaluate((tab) => window.RED.workspaces.show(tab), TAB);
    await page.locator('.imis-runs-status-filter').selectOption('');
    await page.locator('.imis-runs-search-input').fill('');
    await page.locator('.imis-runs-search-input').press('Enter');
    await items().nth(7).waitFor({ state: 'visible', timeout: 15_000 });
    const keys = await page.locator('.imis-runs-list .imis-runs-run .imis-runs-key').allInnerTexts();
    assert.ok(keys.includes('M12345') && keys.includes('M99999'), `keys: ${keys.join(', ')}`);
    await page.locator('.imis-runs-list .imis-runs-run', { hasText: 'M99999' }).first().click();
    const values = page.locator('.imis-runs-run-detail .imis-runs-values');
    await values.waitFor({ state: 'visible' });
    assert.deepEqual(await values.locator('dt').allInnerTexts(), ['event']);
    assert.deepEqual(await values.locator('dd').allInnerTexts(), ['CONF2026']);
    assert.match(await page.locator('.imis-runs-run-detail').innerText(), /Business key: M99999/);
  });

  it("searches by business key in the search field's Business key (starts with) mode", async () => {
    await page.locator('.imis-runs-search-mode').selectOption('key');
    assert.match(await page.locator('.imis-runs-search-mode').innerText(), /Business key \(starts with\)/);
    await page.locator('.imis-runs-search-input').fill('M99999');
    await page.locator('.imis-runs-search-input').press('Enter');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('.imis-runs-list .imis-runs-run')].every((li) =>
        /M99999/.test(li.textContent ?? ''),
      ),
    );
    assert.ok((await items().count()) >= 2);
    await page.locator('.imis-runs-search-input').fill('');
    await page.locator('.imis-runs-search-input').press('Enter');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('.imis-runs-list .imis-runs-key')].some(
        (k) => k.textContent === 'M12345',
      ),
    );
  });

  it('refuses to start a Manual trigger with input that is not JSON: an error under the box, no request', async () => {
    const posts: string[] = [];
    const record = (req: { method(): string; url(): string }) => {
      if (req.method() === 'POST' && req.url().includes('/imis/manual/')) posts.push(req.url());
    };
    page.on('request', record);
    try {
      await page.locator('.imis-runs-manual-open').click();
      const panel = page.locator('.imis-runs-manual');
      await panel.waitFor({ state: 'visible' });
      assert.deepEqual(await panel.locator('.imis-runs-manual-trigger option').allInnerTexts(), [
        'Check-in by hand',
      ]);
      const input = panel.locator('.imis-runs-manual-input');
      assert.deepEqual(JSON.parse(await input.inputValue()), { memberId: '12345', eventCode: 'CONF2026' });
      await input.fill('{"memberId": "12345",');
      await panel.locator('.imis-runs-manual-run').click();
      assert.match(await panel.locator('.imis-runs-manual-error').innerText(), /Input is not valid JSON: /);
      assert.equal(await input.getAttribute('aria-invalid'), 'true');
      // Deliberate window: no request may follow the refusal.
      await quietWindow(100);
      assert.deepEqual(posts, []);
    } finally {
      page.off('request', record);
    }
  });

  it("shows the runtime's refusal to start a run under the box", async () => {
    // The runtime answers 400 when it cannot start the run (here played by the browser's router).
    await page.route('**/imis/manual/runs-dash-manual', (route) =>
      route.fulfill({
        status: 400,
        contentType: 'application/json',
        body: '{"error":"the store is closed"}',
      }),
    );
    try {
      const panel = page.locator('.imis-runs-manual');
      await panel.locator('.imis-runs-manual-input').fill('{"memberId": "12345"}');
      await panel.locator('.imis-runs-manual-run').click();
      await page.waitForFunction(() =>
        /the store is closed/.test(document.querySelector('.imis-runs-manual-error')?.textContent ?? ''),
      );
      assert.match(
        await panel.locator('.imis-runs-manual-error').innerText(),
        /The run was not started: the store is closed/,
      );
      assert.ok(await panel.isVisible(), 'the input stays to fix');
    } finally {
      await page.unroute('**/imis/manual/runs-dash-manual');
    }
  });

  it('starts the Manual trigger with the edited input: the new run is selected, waiting at the node holding it, then recorded', async () => {
    const panel = page.locator('.imis-runs-manual');
    await panel.locator('.imis-runs-manual-input').fill('{"memberId": "12345", "eventCode": "GALA2026"}');
    await panel.locator('.imis-runs-manual-run').click();
    await panel.waitFor({ state: 'hidden' });
    const detail = page.locator('.imis-runs-run-detail');
    await page.waitForFunction(
      () => {
        const id = document.querySelector('.imis-runs-run-detail')?.getAttribute('data-id');
        return id && document.querySelector(`.imis-runs-run[aria-selected="true"][data-id="${id}"]`);
      },
      undefined,
      { timeout: 15_000 },
    );
    const id = (await detail.getAttribute('data-id')) as string;
    const row = page.locator(`.imis-runs-run[data-id="${id}"]`);
    // The run reaches the delay a moment after it starts: the list shows it at the next refresh.
    await waitFor(
      async () => {
        await page.locator('.imis-runs-search-input').press('Enter');
        return /waiting at/.test(await row.innerText());
      },
      2000,
      'the run waiting at the delay',
      100,
    ).catch(() => undefined); // the assertions below say what the row shows
    assert.match(await row.innerText(), /running/);
    assert.match(await row.innerText(), /waiting at Hold for review/);
    assert.match(await detail.innerText(), /GALA2026/);
    const run = await settled(id);
    assert.equal(run.status, 'ok');
    await page.waitForFunction(
      (runId) =>
        /succeeded/.test(document.querySelector(`.imis-runs-run[data-id="${runId}"]`)?.textContent ?? ''),
      id,
      { timeout: 15_000 },
    );
    assert.doesNotMatch(await row.innerText(), /waiting at/);
    assert.match(await row.innerText(), /M12345/);
    await detail.locator('.imis-runs-values dd', { hasText: 'GALA2026' }).waitFor({ state: 'visible' });
  });

  it('starts a Manual trigger from the full-page view too, and selects its new run', async () => {
    const [full] = await Promise.all([
      page.context().waitForEvent('page'),
      page.locator('.imis-runs-full').click(),
    ]);
    const errors: string[] = [];
    full.on('pageerror', (err) => errors.push(err.message));
    await full.waitForLoadState();
    await full
      .locator('.imis-runs-list .imis-runs-run')
      .first()
      .waitFor({ state: 'visible', timeout: 15_000 });
    await full.locator('.imis-runs-manual-open').click();
    const panel = full.locator('.imis-runs-manual');
    await panel.waitFor({ state: 'visible' });
    // Every flow's Manual triggers, each with its flow's name.
    assert.deepEqual(await panel.locator('.imis-runs-manual-trigger option').allInnerTexts(), [
      'Check-in by hand (Runs dashboard)',
    ]);
    await panel.locator('.imis-runs-manual-input').fill('not json');
    await panel.locator('.imis-runs-manual-run').click();
    assert.match(await panel.locator('.imis-runs-manual-error').innerText(), /not valid JSON/);
    await panel.locator('.imis-runs-manual-input').fill('{"memberId": "99999", "eventCode": "FULL2026"}');
    await panel.locator('.imis-runs-manual-run').click();
    await full.waitForFunction(
      () => {
        const id = document.querySelector('.imis-runs-run-detail')?.getAttribute('data-id');
        return id && document.querySelector(`.imis-runs-run[aria-selected="true"][data-id="${id}"]`);
      },
      undefined,
      { timeout: 15_000 },
    );
    const id = (await full.locator('.imis-runs-run-detail').getAttribute('data-id')) as string;
    assert.match(await full.locator('.imis-runs-run-detail').innerText(), /FULL2026/);
    assert.equal((await settled(id)).status, 'failed', 'an unknown member');
    await full.close();
    assert.deepEqual(errors, []);
  });

  it('raised no errors in the browser', () => {
    // but the browser's own line for the refusal played above
    const refused = /status of 400 .*\/imis\/manual\/runs-dash-manual/;
    assert.deepEqual(
      pageErrors.filter((e) => !refused.test(e)),
      [],
    );
  });
});
