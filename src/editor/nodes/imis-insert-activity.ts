// Editor of imis-insert-activity: Insert Activity, its fields chosen from iMIS's Activity table.
import { registerAction } from '../shared/action.js';
import { askServer } from '../shared/server.js';
import { postJson } from '../shared/settings.js';

/** A field of the Activity table (imis/activity-fields). */
interface ActivityField {
  key: string;
  label: string;
  property: string;
  type: string;
  required?: boolean;
}

type Fields = Record<string, string>;

const REQUIRED = ['partyId', 'activityType'];
const MAIN = ['partyId', 'activityType', 'transactionDate'];

registerAction<{ fields?: Fields; dedupField?: string; _fieldTable?: ActivityField[] }>(
  'imis-insert-activity',
  {
    defaults: {
      dedupKey: {},
      dedupField: {},
      server: { value: '', type: 'imis-server', required: true },
      fields: {
        validate: (v: Fields | undefined) =>
          !!v && REQUIRED.every((k) => typeof v[k] === 'string' && v[k].trim() !== ''),
      },
      outputProp: { required: true },
    },
    icon: 'imis-activity.svg',
    oneditprepare() {
      const node = this;
      const fields: Fields = { ...node.fields };
      const $list = $('#node-input-field-list');
      for (const k of MAIN) $('#node-input-f-' + k).val(fields[k] || '');
      // Required fields are red while empty, as Node-RED marks required properties (the node
      // itself is flagged by the `fields` validate above).
      const markRequired = () => {
        for (const k of REQUIRED) {
          const $input = $('#node-input-f-' + k);
          $input.toggleClass('input-error', String($input.val() || '').trim() === '');
        }
      };
      $('#node-input-f-partyId, #node-input-f-activityType').on('change keyup input', markRequired);
      markRequired();
      // Activity Type suggestions: the types the chosen server's activities use (iMIS has no
      // documented list of activity types); failing that, the field is free text as before.
      const loadTypes = () => {
        const $types = $('#node-input-f-activityType-types').empty();
        askServer<string[]>($('#node-input-server').val(), 'imis/server/activity-types').done((types) => {
          for (const t of types ?? []) $('<option>').attr('value', t).appendTo($types);
        });
      };
      $('#node-input-server').on('change', loadTypes);
      // "Keep key in": a text field of the activity (the current choice shows until the list loads).
      const $keyField = $('#node-input-dedupField');
      if (node.dedupField) $('<option>').val(node.dedupField).text(node.dedupField).appendTo($keyField);
      $keyField.val(node.dedupField || '');
      $.getJSON('imis/activity-fields')
        .done((table: ActivityField[]) => {
          node._fieldTable = table;
          $keyField.find('option[value!=""]').remove();
          for (const f of table.filter((f) => f.type === 'String' && !f.required))
            $('<option>')
              .val(f.key)
              .text(f.label + ' (' + f.property + ')')
              .appendTo($keyField);
          $keyField.val(node.dedupField || '');
          const optional = table.filter((f) => !MAIN.includes(f.key));
          $list.editableList({
            addButton: node._('imis-insert-activity.label.add-field'),
            height: 200,
            removable: true,
            sortable: false,
            addItem: (row: JQuery, _index: number, data: { key?: string; value?: string }) => {
              const $select = $('<select>', { class: 'imis-field-key', style: 'width: 40%' }).appendTo(row);
              for (const f of optional)
                $('<option>', { value: f.key }).text(f.label).attr('title', f.property).appendTo($select);
              $('<input>', {
                type: 'text',
                class: 'imis-field-value',
                style: 'width: 55%; margin-left: 4%',
                placeholder: '{{ input.property }}',
              })
                .val(data.value || '')
                .appendTo(row);
              if (data.key) $select.val(data.key);
            },
          } as never);
          for (const f of optional)
            if (fields[f.key]) $list.editableList('addItem', { key: f.key, value: fields[f.key] });
        })
        .fail(() => {
          $('#node-input-field-error').text(node._('imis-insert-activity.errors.no-table')).show();
        });
      $('#node-input-convert-legacy').on('click', (e) => {
        e.preventDefault();
        $('.imis-template')
          .add('.imis-field-value')
          .each(function () {
            const $i = $(this);
            postJson<{ source: string }>('imis/templates/convert', { source: $i.val() }).done((r) => {
              $i.val(r.source);
              $('#node-input-legacy-tip').hide();
            });
          });
      });
      const legacy = Object.keys(fields).some((k) => /\$\$[^$]+\$\$/.test(fields[k] || ''));
      $('#node-input-legacy-tip').toggle(legacy);
    },
    oneditsave() {
      const fields: Fields = {};
      for (const k of MAIN) fields[k] = String($('#node-input-f-' + k).val());
      $('#node-input-field-list')
        .editableList('items')
        .each(function () {
          const key = $(this).find('.imis-field-key').val();
          const value = $(this).find('.imis-field-value').val();
          if (key && value) fields[String(key)] = String(value);
        });
      this.fields = fields;
    },
  },
);
