// Editor of imis-webhook-in: iMIS iHook webhooks.
import { registerType } from '../shared/node.js';
import {
  PROTECTION_CREDENTIALS,
  protectionFields,
  protectionRows,
  testPayloadRow,
} from '../shared/protection.js';
import { retryRow } from '../shared/rows.js';
import { runLabelsFields, runLabelsRows, saveRunLabels } from '../shared/run-labels.js';
import { nodeDefaults } from '../shared/settings.js';
import { giveTokensOnAdd, secretUrlRow } from '../shared/tokens.js';

giveTokensOnAdd('imis-webhook-in');

registerType<object>('imis-webhook-in', {
  category: 'iMIS',
  paletteLabel() {
    return this._('imis-webhook-in.label.palette');
  },
  color: '#7FB7DF',
  defaults: nodeDefaults('imis-webhook-in', {
    retries: { validate: RED.validators.number(true) },
    retryDelaySec: { validate: RED.validators.number(true) },
    name: { value: '' },
    return202: {},
    omitBody: {},
    metadataProp: { validate: RED.validators.regex(/^([A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*)?$/) },
    maxBodyKb: { validate: RED.validators.number() },
    ...protectionFields(),
    ...runLabelsFields(),
  }),
  credentials: { token: { type: 'text' }, ...PROTECTION_CREDENTIALS },
  inputs: 0,
  outputs: 1,
  icon: 'imis-webhook.svg',
  label() {
    return this.name || this._('imis-webhook-in.label.default');
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  outputLabels() {
    return this._('imis-webhook-in.label.output');
  },
  oneditprepare() {
    retryRow(this);
    secretUrlRow(this, 'imis/hook/');
    $('#node-input-maxBodyKb').spinner({ min: 1 });
    protectionRows(this);
    testPayloadRow(this);
    runLabelsRows(this);
  },
  oneditsave() {
    saveRunLabels(this);
  },
});
