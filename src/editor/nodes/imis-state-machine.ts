// Editor of imis-state-machine: moves a workflow's instances.
import { TRIGGER_TYPES } from '../../workflow/definition.js';
import { registerType, typeText, workflowCode } from '../shared/node.js';
import { nodeDefaults } from '../shared/settings.js';

const TRIGGER_PREFIX = 'imis-workflow.triggers.';
const OUTPUT_PREFIX = 'imis-state-machine.label.outputs.';

registerType<{ workflow?: string; trigger?: string }>('imis-state-machine', {
  category: 'iMIS',
  paletteLabel() {
    return this._('imis-state-machine.label.palette');
  },
  color: '#C7E9C0',
  defaults: nodeDefaults('imis-state-machine', {
    name: { value: '' },
    workflow: { type: 'imis-workflow', required: true },
    trigger: {},
    noMatch: {},
  }),
  inputs: 1,
  outputs: 4,
  icon: 'imis-workflow.svg',
  label() {
    if (this.name) return this.name;
    const base = workflowCode(this.workflow) ?? this._('imis-state-machine.label.default');
    if (this.trigger && this.trigger !== 'msg')
      return base + ': ' + typeText('imis-workflow', TRIGGER_PREFIX + this.trigger);
    return base;
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  outputLabels(i) {
    return this._(OUTPUT_PREFIX + ['fired', 'final', 'nothing', 'control'][i]);
  },
  oneditprepare() {
    const $trigger = $('#node-input-trigger');
    for (const t of TRIGGER_TYPES)
      $('<option>')
        .val(t)
        .text(typeText('imis-workflow', TRIGGER_PREFIX + t))
        .insertBefore($trigger.find('option[value="msg"]'));
    $trigger.val(this.trigger || 'msg');
  },
});
