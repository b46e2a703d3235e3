// Editor of imis-delta: what changed since the last run.
import { registerAction } from '../shared/action.js';
import { onErrorOutputLabel } from '../shared/rows.js';

interface DeltaNode {
  keyColumn?: string;
  outputs?: number;
}

registerAction<DeltaNode>('imis-delta', {
  defaults: {
    keyColumn: { required: true },
    inputProp: { required: true },
    outputProp: { required: true },
    removedOutput: {},
    outputs: { value: 1 },
  },
  icon: 'imis-delta.svg',
  label() {
    return this._('imis-delta.label.default') + (this.keyColumn ? ' (' + this.keyColumn + ')' : '');
  },
  outputLabels(i) {
    return i === 0
      ? onErrorOutputLabel(this, this._('imis-delta.label.changed'))
      : this._('imis-delta.label.removed');
  },
  oneditprepare() {
    $('#node-input-inputProp').typedInput({ types: ['msg'] });
  },
  oneditsave() {
    this.outputs = $('#node-input-removedOutput').is(':checked') ? 2 : 1;
    $('#node-input-outputs').val(this.outputs);
  },
});
