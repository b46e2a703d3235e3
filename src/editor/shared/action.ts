// The editor definition of an iMIS action node (one input, one output, a failure policy): what
// every action node's editor does alike, around what is the node's own.
import type { EditorNode, NodeDefinition } from './node.js';
import { registerType } from './node.js';
import { onErrorOutputLabel, onErrorRow } from './rows.js';
import type { FieldDefs } from './settings.js';
import { nodeDefaults } from './settings.js';

/** An action node's property `onError`, its failure policy (src/nodes/lib/action.ts). */
type Action<C> = C & { onError?: string };

/** What an action node's editor holds of its own. */
export interface ActionDefinition<C> {
  /** The node's fields besides `onError` and `name` (its server field among them, if it has one). */
  defaults: FieldDefs;
  credentials?: NodeDefinition<C>['credentials'];
  icon: string;
  /** The node's label when it has no name (default: its catalog's `label.default`). */
  label?: (this: EditorNode<Action<C>>) => string;
  /** The node's output labels (default: the first output's, per its failure policy). */
  outputLabels?: (this: EditorNode<Action<C>>, index: number) => string | undefined;
  /** What the node's dialog prepares besides the failure policy row and the `outputProp` field. */
  oneditprepare?: (this: EditorNode<Action<C>>) => void;
  oneditsave?: (this: EditorNode<Action<C>>) => void;
}

/**
 * Registers action node type `type` (registerType): in the iMIS category, with its palette label,
 * default label and italic name from its catalog; its `onError` and `name` fields; and in its
 * dialog the failure policy row and a message property for `outputProp`.
 */
export function registerAction<C>(type: string, own: ActionDefinition<C>): void {
  registerType<Action<C>>(type, {
    category: 'iMIS',
    paletteLabel() {
      return this._(type + '.label.palette');
    },
    color: '#A6BBCF',
    defaults: nodeDefaults(type, { onError: {}, name: { value: '' }, ...own.defaults }),
    ...(own.credentials ? { credentials: own.credentials } : {}),
    inputs: 1,
    outputs: 1,
    icon: own.icon,
    label() {
      return this.name || (own.label ? own.label.call(this) : this._(type + '.label.default'));
    },
    labelStyle() {
      return this.name ? 'node_label_italic' : '';
    },
    outputLabels(index) {
      return own.outputLabels ? own.outputLabels.call(this, index) : onErrorOutputLabel(this);
    },
    oneditprepare() {
      onErrorRow(this);
      $('#node-input-outputProp').typedInput({ types: ['msg'] });
      own.oneditprepare?.call(this);
    },
    ...(own.oneditsave ? { oneditsave: own.oneditsave } : {}),
  });
}
