// The Protection section of Webhook in and change notification in, and Webhook in's "Send test
// payload": the rows follow the chosen signature scheme, a secret typed in the dialog is kept as a
// credential, and the button posts a signed payload to the deployed node's live URL and shows the answer.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { PROTECTION_DEFAULTS } from '../../src/core/protect/index.js';
import { NODE_RED_PKG } from './red-process.js';
import { cancelDialog, deployedFlows, editNode, useEditorPage } from './session.js';
import type { EditorSession } from './session.js';

const TAB = 'protect-tab';
const SECRET = randomBytes(16).toString('hex');
/** What the editor saves for Webhook in (config version 2), with a GitHub signature. */
const HOOK = {
  name: '',
  return202: false,
  omitBody: false,
  metadataProp: '',
  maxBodyKb: 1024,
  ...PROTECTION_DEFAULTS,
  signature: 'github',
  cfgVersion: 2,
};
/** A change notification node saved before the protections existed (config version 1). */
const CHANGE_V1 = {
  name: '',
  server: '',
  eventTypes: [],
  includeFullRecord: false,
  recordProp: 'record',
  metadataProp: '',
  dropDuplicates: true,
  cfgVersion: 1,
};
const FLOW = [
  { id: TAB, type: 'tab', label: 'Protection' },
  {
    id: 'pr-hook',
    z: TAB,
    type: 'imis-webhook-in',
    ...HOOK,
    x: 200,
    y: 80,
    wires: [[]],
    credentials: { token: randomBytes(24).toString('base64url'), signatureSecret: SECRET },
  },
  {
    id: 'pr-change',
    z: TAB,
    type: 'imis-change-in',
    ...CHANGE_V1,
    x: 200,
    y: 160,
    wires: [[]],
    credentials: { token: randomBytes(24).toString('base64url') },
  },
];

describe(`Editor: endpoint protection dialogs (${NODE_RED_PKG})`, function () {
  this.timeout(90_000);
  let session: EditorSession;
  let page: Page;
  const pageErrors: string[] = [];
  useEditorPage(
    'protect',
    { flows: () => FLOW, errors: pageErrors, tab: TAB },
    (file) => ({ session, page } = file),
  );

  const visible = (selector: string) => page.locator(selector).isVisible();

  it('shows the rows the chosen signature scheme needs', async () => {
    await editNode(page, 'pr-hook');
    assert.equal(await page.locator('#node-input-signature').inputValue(), 'github');
    assert.equal(await visible('#node-input-signatureSecret'), true, 'a preset needs its secret');
    assert.equal(await visible('#node-input-signatureHeader'), false, 'a preset fixes its header');
    assert.equal(await visible('#node-input-toleranceSec'), false, 'GitHub signs no timestamp');

    await page.locator('#node-input-signature').selectOption('stripe');
    assert.equal(await visible('#node-input-toleranceSec'), true, 'Stripe has a replay window');
    assert.equal(await visible('.imis-signature-standard'), false);

    await page.locator('#node-input-signature').selectOption('standard-webhooks');
    assert.equal(
      (await page.locator('#node-input-signature option:checked').textContent())?.startsWith(
        'Standard Webhooks',
      ),
      true,
      'its label, from the catalog',
    );
    assert.equal(await visible('#node-input-toleranceSec'), true, 'Standard Webhooks has a replay window');
    assert.equal(
      await page.locator('#node-input-toleranceSec').inputValue(),
      '300',
      "the standard's 5 minutes",
    );
    assert.equal(await visible('#node-input-signatureSecret'), true, 'its whsec_ secret');
    assert.equal(await visible('#node-input-signatureHeader'), false, 'its headers are fixed');
    assert.match(String(await page.locator('.imis-signature-standard').textContent()), /whsec_.*webhook-id/);

    await page.locator('#node-input-signature').selectOption('custom');
    for (const field of [
      'signatureHeader',
      'signatureAlgorithm',
      'signatureEncoding',
      'signaturePrefix',
      'timestampHeader',
    ])
      assert.equal(await visible(`#node-input-${field}`), true, field);
    assert.equal(await visible('#node-input-toleranceSec'), false, 'no timestamp header yet');
    await page.locator('#node-input-timestampHeader').fill('X-Timestamp');
    assert.equal(await visible('#node-input-toleranceSec'), true);

    await page.locator('#node-input-signature').selectOption('none');
    assert.equal(await visible('#node-input-signatureSecret'), false);
    await cancelDialog(page);
  });

  it('takes a node saved before the protections as valid, and shows it their defaults (all off)', async () => {
    assert.equal(await page.evaluate(() => window.RED.nodes.node('pr-change')?.valid), true);
    await editNode(page, 'pr-change');
    assert.equal(await page.locator('#node-input-signature').inputValue(), 'none');
    assert.equal(await page.locator('#node-input-toleranceSec').inputValue(), '300');
    assert.equal(await page.locator('#node-input-rateLimit').inputValue(), '0');
    assert.equal(await page.locator('#node-input-ratePeriod').inputValue(), 'minute');
    assert.equal(await page.locator('#node-input-allowFrom').inputValue(), '');
    await cancelDialog(page);
  });

  it('marks an allowlist entry that is not an address or range, and a bad header name', async () => {
    await editNode(page, 'pr-change');
    const allowFrom = page.locator('#node-input-allowFrom');
    await allowFrom.fill('203.0.113.0/24, intranet');
    await allowFrom.blur();
    await page.locator('#node-input-allowFrom.input-error').waitFor({ state: 'attached' });
    await allowFrom.fill('203.0.113.0/24, 2001:db8::/32 ::1');
    await allowFrom.blur();
    await page.locator('#node-input-allowFrom:not(.input-error)').waitFor({ state: 'attached' });
    const header = page.locator('#node-input-secretHeader');
    await header.fill('X Api Key');
    await header.blur();
    await page.locator('#node-input-secretHeader.input-error').waitFor({ state: 'attached' });
    await cancelDialog(page);
    // What the editor says of each (Node-RED shows a validator's text beside the field and on deploy).
    const messages = await page.evaluate(() => {
      const node = window.RED.nodes.node('pr-change');
      if (!node) throw new Error('no node pr-change');
      const say = (field: string, value: unknown) =>
        node._def.defaults[field].validate?.call(node, value, {});
      return [say('allowFrom', 'intranet'), say('secretHeader', 'X Api'), say('toleranceSec', '0')];
    });
    assert.deepEqual(messages, [
      'List IPv4 or IPv6 addresses or CIDR ranges, separated by commas or spaces',
      'Not a valid HTTP header name',
      'A whole number, 1 or more',
    ]);
  });

  it('sends a signed test payload to the live URL and shows the answer', async () => {
    await editNode(page, 'pr-hook');
    await page.locator('#imis-test-payload').fill('{"test": "from the editor"}');
    await page.locator('#imis-test-send').click();
    const answer = page.locator('#imis-test-answer');
    await page.waitForFunction(() =>
      /^Answer: /.test(document.getElementById('imis-test-answer')?.textContent ?? ''),
    );
    const text = await answer.innerText();
    assert.match(text, /^Answer: 200 \(signed\)/);
    const { id } = JSON.parse(text.split('\n').slice(1).join('\n'));
    assert.ok(id, 'the run id the endpoint answered');
    const run = await (await fetch(`${session.red.url}/imis/runs/${id}`)).json();
    assert.deepEqual(run.input, { test: 'from the editor' });
    assert.ok(!text.includes(SECRET));
    await cancelDialog(page);
  });

  it('keeps a secret typed in the dialog as a credential, never in the flow', async () => {
    await editNode(page, 'pr-change');
    await page.locator('#node-input-secretHeader').fill('X-Delivery-Key');
    const typed = randomBytes(12).toString('hex');
    await page.locator('#node-input-headerSecret').fill(typed);
    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
    await page.locator('#red-ui-header-button-deploy').click();
    const flows = JSON.stringify(
      await deployedFlows(session, (deployed) => JSON.stringify(deployed).includes('X-Delivery-Key')),
    );
    assert.ok(!flows.includes(typed), 'the value is not part of the flow');
    const credentials = await (await fetch(`${session.red.url}/credentials/imis-change-in/pr-change`)).json();
    assert.equal(credentials.has_headerSecret, true, 'kept as a credential');
    assert.ok(!JSON.stringify(credentials).includes(typed), 'and never sent back to the editor');
  });

  it('raised no errors in the browser', () => {
    assert.deepEqual(pageErrors, []);
  });
});
