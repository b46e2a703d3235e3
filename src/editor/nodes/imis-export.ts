// Editor of imis-export: Export Data to URL.
import { registerType } from '../shared/node.js';
import { onErrorOutputLabel, onErrorRow } from '../shared/rows.js';
import { nodeDefaults } from '../shared/settings.js';
import { giveTokensOnAdd, secretUrlRow } from '../shared/tokens.js';

interface ExportNode {
  onError?: string;
  format?: string;
}

giveTokensOnAdd('imis-export');

registerType<ExportNode>('imis-export', {
  category: 'iMIS',
  paletteLabel() {
    return this._('imis-export.label.palette');
  },
  color: '#A6BBCF',
  defaults: nodeDefaults('imis-export', {
    onError: {},
    name: { value: '' },
    source: { required: true },
    format: {},
    nested: {},
    outputProp: { required: true },
    publicBase: { validate: RED.validators.regex(/^(https?:\/\/[^\s]+)?$/) },
    expiry: {},
    renew: {},
  }),
  credentials: { token: { type: 'text' } },
  inputs: 1,
  outputs: 1,
  icon: 'imis-export.svg',
  label() {
    return (
      this.name || this._('imis-export.label.default') + ' (' + (this.format || 'json').toUpperCase() + ')'
    );
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  outputLabels() {
    return onErrorOutputLabel(this);
  },
  oneditprepare() {
    onErrorRow(this);
    const show = secretUrlRow(this, 'imis/export/', () => String($('#node-input-publicBase').val() ?? ''));
    $('#node-input-publicBase').on('change keyup', show);
    $('#node-input-source').typedInput({ types: ['msg'] });
    $('#node-input-outputProp').typedInput({ types: ['msg'] });
    $('#node-input-format')
      .on('change', function () {
        $('.imis-export-csv').toggle($(this).val() === 'csv');
      })
      .trigger('change');
    $('#node-input-expiry')
      .on('change', function () {
        $('.imis-export-renew').toggle($(this).val() !== 'never');
      })
      .trigger('change');
  },
});
