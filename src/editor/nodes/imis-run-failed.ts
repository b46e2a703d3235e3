// Editor of imis-run-failed: catches the runs that failed.
import { registerType } from '../shared/node.js';
import { nodeDefaults } from '../shared/settings.js';

registerType<{ flows?: string[] }>('imis-run-failed', {
  category: 'iMIS',
  paletteLabel() {
    return this._('imis-run-failed.label.palette');
  },
  color: '#E9967A',
  defaults: nodeDefaults('imis-run-failed', {
    name: { value: '' },
    scope: {},
    flows: {},
  }),
  inputs: 0,
  outputs: 1,
  icon: 'imis-run-failed.svg',
  label() {
    return this.name || this._('imis-run-failed.label.default');
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  outputLabels() {
    return this._('imis-run-failed.label.output');
  },
  oneditprepare() {
    const chosen = Array.isArray(this.flows) ? this.flows : [];
    const $list = $('#node-input-flows-list').empty();
    RED.nodes.eachWorkspace((w: object) => {
      const ws = w as { id: string; label?: string };
      const $row = $('<div>').appendTo($list);
      $('<label>')
        .css({ width: 'auto' })
        .append(
          $('<input type="checkbox" class="imis-run-failed-flow">')
            .val(ws.id)
            .prop('checked', chosen.includes(ws.id))
            .css({ width: 'auto', 'margin-right': '6px' }),
          document.createTextNode(ws.label || ws.id),
        )
        .appendTo($row);
      return true;
    });
    $('#node-input-scope')
      .on('change', function () {
        $('.imis-run-failed-flows').toggle($(this).val() === 'flows');
      })
      .trigger('change');
  },
  oneditsave() {
    this.flows = $('.imis-run-failed-flow:checked')
      .map(function () {
        return String($(this).val());
      })
      .get();
  },
});
