// Editor of imis-schema-validate: JSON Schema validation.
import type { CodeEditor } from '../shared/node.js';
import { createEditor, dialogRowsHeight, registerType } from '../shared/node.js';
import { errorText, nodeDefaults, postJson } from '../shared/settings.js';

registerType<{ editor?: CodeEditor; outputs?: number }>('imis-schema-validate', {
  category: 'iMIS',
  paletteLabel() {
    return this._('imis-schema-validate.label.palette');
  },
  color: '#7FB7DF',
  defaults: nodeDefaults('imis-schema-validate', {
    name: { value: '' },
    schema: {
      validate(this: { schemaSource?: string }, v: string) {
        if (this.schemaSource === 'msg') return true;
        try {
          return typeof JSON.parse(v) === 'object';
        } catch {
          return false;
        }
      },
    },
    schemaSource: {},
    property: { required: true },
    onInvalid: {},
    draft: {},
    outputs: { value: 1 },
  }),
  inputs: 1,
  outputs: 1,
  icon: 'imis-schema.svg',
  label() {
    return this.name || this._('imis-schema-validate.label.default');
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  outputLabels(i) {
    return this._(i === 0 ? 'imis-schema-validate.label.valid' : 'imis-schema-validate.label.invalid');
  },
  oneditprepare() {
    const node = this;
    const editor = createEditor('node-input-schema-editor', String($('#node-input-schema').val()));
    node.editor = editor;
    $('#node-input-property').typedInput({ types: ['msg'] });
    $('#node-input-schemaSource')
      .on('change', function () {
        $('.imis-schema-config').toggle($(this).val() === 'config');
      })
      .trigger('change');
    $('#node-input-generate').on('click', (e) => {
      e.preventDefault();
      let parsed: unknown;
      try {
        parsed = JSON.parse(String($('#node-input-sample').val()));
      } catch (err) {
        RED.notify(
          node._('imis-schema-validate.errors.bad-sample', { message: (err as Error).message }),
          'error',
        );
        return;
      }
      // "detect from $schema" generates a draft-07 schema, the draft read without one.
      postJson('imis/schema/generate', { sample: parsed, draft: $('#node-input-draft').val() })
        .done((schema) => editor.setValue(JSON.stringify(schema, null, 2), -1))
        .fail((xhr) => RED.notify(errorText(xhr), 'error'));
    });
  },
  oneditsave() {
    $('#node-input-schema').val(this.editor?.getValue() ?? '');
    this.editor?.destroy();
    delete this.editor;
    this.outputs = $('#node-input-onInvalid').val() === 'output' ? 2 : 1;
    $('#node-input-outputs').val(this.outputs);
  },
  oneditcancel() {
    this.editor?.destroy();
    delete this.editor;
  },
  oneditresize(size) {
    const height = size.height - dialogRowsHeight();
    $('.node-text-editor-row').css('height', Math.max(150, height - 20) + 'px');
    this.editor?.resize();
  },
});
