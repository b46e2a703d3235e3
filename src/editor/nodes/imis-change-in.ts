// Editor of imis-change-in: iMIS change notifications (Event Grid).
import { registerType } from '../shared/node.js';
import { PROTECTION_CREDENTIALS, protectionFields, protectionRows } from '../shared/protection.js';
import { retryRow } from '../shared/rows.js';
import { runLabelsFields, runLabelsRows, saveRunLabels } from '../shared/run-labels.js';
import { nodeDefaults, setting } from '../shared/settings.js';
import { giveTokensOnAdd, secretUrlRow } from '../shared/tokens.js';

interface ChangeInNode {
  eventTypes?: string[];
}

// Entity.Action or Entity.*: the runtime's own pattern (src/core/event-grid.ts).
const ENTRY = new RegExp(setting<string>('imis-change-in', 'EventTypePattern') ?? '');
giveTokensOnAdd('imis-change-in');

registerType<ChangeInNode>('imis-change-in', {
  category: 'iMIS',
  paletteLabel() {
    return this._('imis-change-in.label.palette');
  },
  color: '#7FB7DF',
  defaults: nodeDefaults('imis-change-in', {
    retries: { validate: RED.validators.number(true) },
    retryDelaySec: { validate: RED.validators.number(true) },
    name: { value: '' },
    server: { value: '', type: 'imis-server', required: false },
    eventTypes: { validate: (v: unknown) => Array.isArray(v) && v.every((e) => ENTRY.test(e)) },
    includeFullRecord: {},
    recordProp: {},
    metadataProp: {},
    dropDuplicates: {},
    ...protectionFields(),
    ...runLabelsFields(),
  }),
  credentials: { token: { type: 'text' }, ...PROTECTION_CREDENTIALS },
  inputs: 0,
  outputs: 1,
  icon: 'imis-change.svg',
  label() {
    return (
      this.name ||
      (this.eventTypes?.length ? this.eventTypes.join(', ') : this._('imis-change-in.label.default'))
    );
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  oneditprepare() {
    retryRow(this);
    const node = this;
    secretUrlRow(node, 'imis/notify/');
    $('#node-input-eventTypes-list').editableList({
      addButton: node._('imis-change-in.label.add'),
      height: 120,
      removable: true,
      sortable: false,
      addItem: (row: JQuery, _index: number, data: unknown) => {
        const $input = $('<input>', {
          type: 'text',
          class: 'imis-event-type',
          style: 'width: 100%',
          placeholder: 'Party.Updated',
        })
          .val(typeof data === 'string' ? data : '')
          .appendTo(row);
        $input
          .on('keyup change', () => {
            const value = String($input.val());
            $input.toggleClass('input-error', !(!value || ENTRY.test(value.trim())));
          })
          .trigger('change');
      },
    } as never);
    for (const e of node.eventTypes ?? [])
      $('#node-input-eventTypes-list').editableList('addItem', e as never);
    $('#node-input-includeFullRecord')
      .on('change', function () {
        $('.imis-record-row').toggle((this as HTMLInputElement).checked);
      })
      .trigger('change');
    protectionRows(node);
    runLabelsRows(node);
  },
  oneditsave() {
    const list: string[] = [];
    $('#node-input-eventTypes-list')
      .editableList('items')
      .each(function () {
        const v = String($(this).find('.imis-event-type').val()).trim();
        if (v) list.push(v);
      });
    this.eventTypes = list;
    saveRunLabels(this);
  },
});
