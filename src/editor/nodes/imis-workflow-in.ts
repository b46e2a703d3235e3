// Editor of imis-workflow-in: a workflow's events.
import { registerType, workflowCode } from '../shared/node.js';
import { nodeDefaults } from '../shared/settings.js';

registerType<{ workflow?: string }>('imis-workflow-in', {
  category: 'iMIS',
  paletteLabel() {
    return this._('imis-workflow-in.label.palette');
  },
  color: '#C7E9C0',
  defaults: nodeDefaults('imis-workflow-in', {
    name: { value: '' },
    workflow: { type: 'imis-workflow', required: true },
    events: {},
  }),
  inputs: 0,
  outputs: 1,
  icon: 'imis-workflow-in.svg',
  label() {
    if (this.name) return this.name;
    const code = workflowCode(this.workflow);
    return (code ? code + ' ' : '') + this._('imis-workflow-in.label.default');
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
});
