// Editor of imis-export: Export Data to URL.
import { registerAction } from '../shared/action.js';
import { giveTokensOnAdd, secretUrlRow } from '../shared/tokens.js';

interface ExportNode {
  format?: string;
}

giveTokensOnAdd('imis-export');

registerAction<ExportNode>('imis-export', {
  defaults: {
    source: { required: true },
    format: {},
    nested: {},
    outputProp: { required: true },
    publicBase: { validate: RED.validators.regex(/^(https?:\/\/[^\s]+)?$/) },
    expiry: {},
    renew: {},
  },
  credentials: { token: { type: 'text' } },
  icon: 'imis-export.svg',
  label() {
    return this._('imis-export.label.default') + ' (' + (this.format || 'json').toUpperCase() + ')';
  },
  oneditprepare() {
    const show = secretUrlRow(this, 'imis/export/', () => String($('#node-input-publicBase').val() ?? ''));
    $('#node-input-publicBase').on('change keyup', show);
    $('#node-input-source').typedInput({ types: ['msg'] });
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
