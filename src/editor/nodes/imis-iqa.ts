// Editor of imis-iqa: runs an IQA query; its prompts from the chosen query.
import { registerAction } from '../shared/action.js';
import { askServer } from '../shared/server.js';
import { errorText } from '../shared/settings.js';

/** A query as imis/iqa/query answers: its prompts. */
interface Query {
  parameters?: {
    propertyName: string;
    operator?: string;
    prompt?: string;
    allowMultiple?: boolean;
    values?: string[];
  }[];
}

registerAction<{ path?: string; parameters?: string[] }>('imis-iqa', {
  defaults: {
    server: { value: '', type: 'imis-server', required: true },
    endpoint: {},
    path: { required: true },
    parameters: {},
    pageSize: { validate: (v: string) => Number(v) >= 1 && Number(v) <= 500 },
    maxRows: { validate: RED.validators.number() },
    outputProp: { required: true },
  },
  icon: 'imis-iqa.svg',
  label() {
    return this.path ? (this.path.split('/').pop() ?? '') : this._('imis-iqa.label.default');
  },
  oneditprepare() {
    const node = this;
    // Row i's placeholder: the operator and property of the query's prompt i, once known.
    let placeholders: string[] = [];
    const placeholder = (i: number) => placeholders[i] || 'eq:{{ input.memberId }}';
    const $params = $('#node-input-parameter-list');
    $params.editableList({
      addButton: node._('imis-iqa.label.add'),
      height: 120,
      removable: true,
      sortable: true,
      addItem: (row: JQuery, index: number, data: unknown) => {
        $('<input>', {
          type: 'text',
          class: 'imis-iqa-param',
          style: 'width: 100%',
          placeholder: placeholder(index),
        })
          .val(typeof data === 'string' ? data : '')
          .appendTo(row);
      },
    } as never);
    for (const p of node.parameters ?? []) $params.editableList('addItem', p as never);
    // The chosen query's prompts, in the order the parameters fill them: one row each.
    let asked = 0;
    const showPrompts = () => {
      const mine = ++asked;
      const path = String($('#node-input-path').val() || '').trim();
      const $prompts = $('#node-input-prompts').empty();
      if (!path || path.includes('{{')) return;
      askServer<Query>($('#node-input-server').val(), 'imis/iqa/query', { path })
        .done((query) => {
          if (mine !== asked) return;
          const prompts = query.parameters ?? [];
          $('<div>')
            .text(node._(prompts.length ? 'imis-iqa.label.prompts' : 'imis-iqa.label.no-prompts'))
            .appendTo($prompts);
          placeholders = prompts.map(
            (p) => (p.operator || 'eq') + ':{{ input.' + p.propertyName.split('.').pop() + ' }}',
          );
          prompts.forEach((p, i) => {
            const details = [p.operator, p.prompt].filter(Boolean).join(', ');
            let text = node._('imis-iqa.label.prompt', { index: i + 1, property: p.propertyName, details });
            if (p.allowMultiple) text += ' ' + node._('imis-iqa.label.multiple');
            if (p.values?.length)
              text += ' ' + node._('imis-iqa.label.defaults', { values: p.values.join(', ') });
            $('<div>', { class: 'imis-iqa-prompt' }).text(text).appendTo($prompts);
          });
          const rows = $params.editableList('items');
          rows.each(function (i) {
            $(this).find('.imis-iqa-param').attr('placeholder', placeholder(i));
          });
          for (let i = rows.length; i < prompts.length; i++) $params.editableList('addItem', '' as never);
        })
        .fail((xhr: JQuery.jqXHR) => {
          if (mine !== asked) return;
          $('<div>', { class: 'imis-iqa-prompt-error' }).text(errorText(xhr)).appendTo($prompts);
        });
    };
    $('#node-input-path').on('change', showPrompts);
    $('#node-input-server').on('change', showPrompts);
    $('#node-input-browse').on('click', (e) => {
      e.preventDefault();
      const $list = $('#node-input-query-list').empty().show();
      askServer<{ path: string }[]>($('#node-input-server').val(), 'imis/iqa/queries', {
        folder: $('#node-input-folder').val(),
      })
        .done((queries) => {
          for (const q of queries ?? [])
            $('<li>')
              .css('cursor', 'pointer')
              .text(q.path)
              .on('click', () => {
                $('#node-input-path').val(q.path).trigger('change');
                $list.hide();
              })
              .appendTo($list);
        })
        .fail((xhr: JQuery.jqXHR) => {
          $('<li>').text(errorText(xhr)).appendTo($list);
        });
    });
  },
  oneditsave() {
    const params: string[] = [];
    $('#node-input-parameter-list')
      .editableList('items')
      .each(function () {
        params.push(String($(this).find('.imis-iqa-param').val()));
      });
    this.parameters = params;
  },
});
