// Editor of imis-delta: what changed since the last run.
import { registerType } from '../shared/node.js';
import { onErrorOutputLabel, onErrorRow } from '../shared/rows.js';
import { nodeDefaults } from '../shared/settings.js';

interface DeltaNode {
  onError?: string;
  keyColumn?: string;
  outputs?: number;
}

registerType<DeltaNode>('imis-delta', {
  category: 'iMIS',
  paletteLabel() {
    return this._('imis-delta.label.palette');
  },
  color: '#A6BBCF',
  defaults: nodeDefaults('imis-delta', {
    onError: {},
    name: { value: '' },
    keyColumn: { required: true },
    inputProp: { required: true },
    outputProp: { required: true },
    removedOutput: {},
    outputs: { value: 1 },
  }),
  inputs: 1,
  outputs: 1,
  icon: 'imis-delta.svg',
  label() {
    return (
      this.name || this._('imis-delta.label.default') + (this.keyColumn ? ' (' + this.keyColumn + ')' : '')
    );
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  outputLabels(i) {
    return i === 0
      ? onErrorOutputLabel(this, this._('imis-delta.label.changed'))
      : this._('imis-delta.label.removed');
  },
  oneditprepare() {
    onErrorRow(this);
    $('#node-input-inputProp').typedInput({ types: ['msg'] });
    $('#node-input-outputProp').typedInput({ types: ['msg'] });
  },
  oneditsave() {
    this.outputs = $('#node-input-removedOutput').is(':checked') ? 2 : 1;
    $('#node-input-outputs').val(this.outputs);
  },
});
