// Editor of imis-manual: a run started by hand, like inject's button.
import type { CodeEditor } from '../shared/node.js';
import { createEditor, dialogRowsHeight, registerType } from '../shared/node.js';
import { retryRow } from '../shared/rows.js';
import { runLabelsFields, runLabelsRows, saveRunLabels } from '../shared/run-labels.js';
import { errorText, nodeDefaults, postJson } from '../shared/settings.js';

registerType<{ editor?: CodeEditor }>('imis-manual', {
  category: 'iMIS',
  paletteLabel() {
    return this._('imis-manual.label.palette');
  },
  color: '#7FB7DF',
  defaults: nodeDefaults('imis-manual', {
    retries: { validate: RED.validators.number(true) },
    retryDelaySec: { validate: RED.validators.number(true) },
    name: { value: '' },
    ...runLabelsFields(),
    input: {
      validate(
        this: { _: (key: string, subs?: Record<string, unknown>) => string },
        v: string,
        opt?: unknown,
      ) {
        try {
          JSON.parse(v);
          return true;
        } catch (e) {
          return opt ? this._('imis-manual.errors.json', { message: (e as Error).message }) : false;
        }
      },
    },
  }),
  inputs: 0,
  outputs: 1,
  icon: 'imis-manual.svg',
  label() {
    return this.name || this._('imis-manual.label.default');
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  // Like inject's button: starts a run of the deployed node with its configured input.
  button: {
    enabled() {
      return !this.changed;
    },
    onclick() {
      const node = this;
      if (node.changed) {
        RED.notify(node._('imis-manual.notify.deploy-first'), 'warning');
        return;
      }
      postJson<{ id: string }>('imis/manual/' + encodeURIComponent(node.id))
        .done((r) => {
          RED.notify(node._('imis-manual.notify.started', { id: r.id }), { type: 'success', timeout: 2000 });
        })
        .fail((xhr) => {
          RED.notify(node._('imis-manual.notify.failed', { message: errorText(xhr) }), 'error');
        });
    },
  },
  oneditprepare() {
    retryRow(this);
    runLabelsRows(this);
    this.editor = createEditor('node-input-input-editor', String($('#node-input-input').val()));
  },
  oneditsave() {
    saveRunLabels(this);
    $('#node-input-input').val(this.editor?.getValue() ?? '');
    this.editor?.destroy();
    delete this.editor;
  },
  oneditcancel() {
    this.editor?.destroy();
    delete this.editor;
  },
  oneditresize(size) {
    const height = size.height - dialogRowsHeight();
    $('.node-text-editor').css('height', Math.max(120, height - 20) + 'px');
    this.editor?.resize();
  },
});
