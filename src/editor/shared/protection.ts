// Endpoint protections (Webhook in, change notification in): the Protection part's fields, and
// Webhook in's test payload.
import type { EditorNode } from './node.js';
import type { FieldDefs } from './settings.js';
import { errorText, postJson, t } from './settings.js';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/;

/**
 * A `validate` giving the imis-editor catalog's message `key` when `ok(value)` fails. Like every
 * protection field's, it passes a missing value: a node saved before the protections existed (its
 * config version says so) gets the defaults in the runtime, and in its dialog (protectionRows).
 */
export function validator(key: string, ok: (value: unknown) => boolean, values?: Record<string, unknown>) {
  return (value: unknown, opt?: unknown): boolean | string =>
    value === undefined || ok(value) || (opt ? t(key, values) : false);
}

const headerName = (optional: boolean) =>
  validator('protect.errors.header', (v) => (optional && !v) || HEADER_NAME.test(String(v)));

const wholeNumber = (min: number) =>
  validator('protect.errors.number', (v) => /^\s*\d+\s*$/.test(String(v)) && Number(v) >= min, { min });

/** "Allow from": addresses and CIDR ranges; the runtime checks them exactly. */
const allowFrom = validator('protect.errors.allowFrom', (v) =>
  String(v)
    .split(/[\s,]+/)
    .filter(Boolean)
    .every((entry) => {
      const parts = entry.split('/');
      if (parts.length > 2) return false;
      const v4 = IPV4.test(parts[0]);
      if (!v4 && !IPV6.test(parts[0])) return false;
      return parts.length === 1 || (/^\d{1,3}$/.test(parts[1]) && Number(parts[1]) <= (v4 ? 32 : 128));
    }),
);

/** The protection fields of a node type's `defaults` (their values come from the runtime, see nodeDefaults). */
export function protectionFields(): FieldDefs {
  return {
    secretHeader: { validate: headerName(true) },
    signature: {},
    signatureHeader: { validate: headerName(false) },
    signatureAlgorithm: {},
    signatureEncoding: {},
    signaturePrefix: {},
    timestampHeader: { validate: headerName(true) },
    toleranceSec: { validate: wholeNumber(1) },
    allowFrom: { validate: allowFrom },
    rateLimit: { validate: wholeNumber(0) },
    ratePeriod: {},
  };
}

/** The protections' credentials. */
export const PROTECTION_CREDENTIALS = {
  headerSecret: { type: 'password' },
  signatureSecret: { type: 'password' },
} as const;

/** Wires the Protection part: defaults for a node saved before it existed, and the rows the chosen signature scheme needs. */
export function protectionRows(node: EditorNode): void {
  const fields = node as unknown as Record<string, unknown>;
  for (const field of Object.keys(protectionFields()))
    if (fields[field] === undefined) $('#node-input-' + field).val(node._def.defaults[field].value as string);
  $('#node-input-toleranceSec').spinner({ min: 1 });
  $('#node-input-rateLimit').spinner({ min: 0 });
  const show = () => {
    const scheme = $('#node-input-signature').val();
    const custom = scheme === 'custom';
    $('.imis-signature-on').toggle(scheme !== 'none');
    $('.imis-signature-custom').toggle(custom);
    const timed = scheme === 'stripe' || scheme === 'standard-webhooks';
    $('.imis-signature-tolerance').toggle(timed || (custom && !!$('#node-input-timestampHeader').val()));
    $('.imis-signature-standard').toggle(scheme === 'standard-webhooks');
  };
  $('#node-input-signature, #node-input-timestampHeader').on('change input', show);
  show();
}

/** The answer of the test payload endpoint (src/nodes/lib/protect-api). */
interface TestAnswer {
  status: number;
  signed?: boolean;
  body: string;
}

/**
 * Wires the test payload part: the runtime posts #imis-test-payload to the deployed node's live
 * URL (signing it as configured) and #imis-test-answer shows the answer.
 */
export function testPayloadRow(node: { type: string; id: string }): void {
  $('#imis-test-send').on('click', (e) => {
    e.preventDefault();
    const $answer = $('#imis-test-answer').removeClass('imis-test-error').text('…').show();
    postJson<TestAnswer>('imis/' + node.type + '/' + encodeURIComponent(node.id) + '/test', {
      payload: $('#imis-test-payload').val(),
    })
      .done((answer) => {
        let heading = t('protect.test.answer', { status: answer.status });
        if (answer.signed) heading += ' (' + t('protect.test.signed') + ')';
        $answer.toggleClass('imis-test-error', answer.status >= 400).text(heading + '\n' + answer.body);
      })
      .fail((xhr) => {
        $answer.addClass('imis-test-error').text(errorText(xhr));
      });
  });
}
