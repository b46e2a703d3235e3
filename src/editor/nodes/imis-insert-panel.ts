// Editor of imis-insert-panel: Insert Panel Record, its columns from the chosen panel.
import { registerAction } from '../shared/action.js';
import { askServer } from '../shared/server.js';
import { errorText } from '../shared/settings.js';

/** A panel as imis/server/panels answers. */
interface Panel {
  name: string;
  description?: string;
  objectType?: string;
  parentType?: string;
  properties: { name: string; caption?: string; type?: string; isIdentity?: boolean }[];
}

type Fields = Record<string, string>;

registerAction<{ panel?: string; fields?: Fields; _collect?: () => Fields }>('imis-insert-panel', {
  defaults: {
    dedupKey: {},
    dedupField: {},
    server: { value: '', type: 'imis-server', required: true },
    panel: { required: true },
    partyId: {},
    fields: {},
    outputProp: { required: true },
  },
  icon: 'imis-panel.svg',
  label() {
    return this.panel || this._('imis-insert-panel.label.default');
  },
  oneditprepare() {
    const node = this;
    let fields: Fields = { ...node.fields };
    let panels: Panel[] = [];
    const showColumns = (name: unknown) => {
      const $rows = $('#node-input-columns').empty();
      const panel = panels.find((p) => p.name === name);
      const columns = panel
        ? panel.properties.filter(
            (p) => !p.isIdentity && !['ID', 'PartyId', 'Ordinal', 'SEQN'].includes(p.name),
          )
        : Object.keys(fields).map((k) => ({ name: k, caption: k, type: '' }));
      for (const col of columns) {
        const $row = $('<div>', { class: 'form-row' }).appendTo($rows);
        $('<label>')
          .text(col.caption || col.name)
          .attr('title', col.name + (col.type ? ' (' + col.type + ')' : ''))
          .appendTo($row);
        $('<input>', {
          type: 'text',
          class: 'imis-column',
          'data-column': col.name,
          placeholder: col.type || '',
        })
          .val(fields[col.name] || '')
          .appendTo($row);
      }
      $('#node-input-panel-info').text(
        panel
          ? node._('imis-insert-panel.label.info', { type: panel.objectType, parent: panel.parentType })
          : '',
      );
    };
    const collect = (): Fields => {
      const out: Fields = {};
      $('.imis-column').each(function () {
        if ($(this).val()) out[String($(this).data('column'))] = String($(this).val());
      });
      return out;
    };
    // The panels of the chosen server as the dialog holds it, deployed or not.
    const load = () => {
      const current = String($('#node-input-panel').val() || node.panel || '');
      const $select = $('#node-input-panel-select').empty();
      $('<option>', { value: current })
        .text(current || node._('imis-insert-panel.label.choose'))
        .appendTo($select);
      askServer<Panel[]>($('#node-input-server').val(), 'imis/server/panels')
        .done((list) => {
          panels = list;
          $select.empty();
          for (const p of list)
            $('<option>', { value: p.name })
              .text(p.name + (p.description ? ' - ' + p.description : ''))
              .appendTo($select);
          if (current) $select.val(current);
          showColumns($select.val());
          $('#node-input-panel-error').hide();
        })
        .fail((xhr: JQuery.jqXHR) => {
          $('#node-input-panel-error').text(errorText(xhr)).show();
          showColumns(current);
        });
    };
    $('#node-input-panel-select').on('change', function () {
      fields = collect();
      $('#node-input-panel').val(String($(this).val()));
      showColumns($(this).val());
    });
    $('#node-input-server').on('change', load);
    $('#node-input-panel-reload').on('click', (e) => {
      e.preventDefault();
      load();
    });
    node._collect = collect;
  },
  oneditsave() {
    this.fields = this._collect?.();
    $('#node-input-panel').val(String($('#node-input-panel-select').val() || $('#node-input-panel').val()));
    delete this._collect;
  },
});
