// A node type's editor definition (Node-RED's registerType), typed for this package's modules.
import { insertParts } from './rows.js';
import type { FieldDefs } from './settings.js';

/** What Node-RED gives a node's editor functions as `this`, besides the node's properties `C`. */
export type EditorNode<C = object> = C & {
  id: string;
  type: string;
  name?: string;
  changed?: boolean;
  credentials?: Record<string, string | undefined>;
  /** A message of the node's catalog. */
  _: (key: string, subs?: Record<string, unknown>) => string;
  _def: { set: { id: string }; defaults: Record<string, { value?: unknown }> };
};

export interface NodeDefinition<C> {
  category: string;
  color?: string;
  defaults: FieldDefs;
  credentials?: Record<string, { type: string }>;
  inputs?: number;
  outputs?: number;
  icon?: string;
  align?: 'left' | 'right';
  paletteLabel?: string | ((this: EditorNode<C>) => string);
  label?: (this: EditorNode<C>) => string;
  labelStyle?: (this: EditorNode<C>) => string;
  inputLabels?: (this: EditorNode<C>, index: number) => string | undefined;
  outputLabels?: (this: EditorNode<C>, index: number) => string | undefined;
  button?: { enabled?: (this: EditorNode<C>) => boolean; onclick: (this: EditorNode<C>) => void };
  oneditprepare?: (this: EditorNode<C>) => void;
  oneditsave?: (this: EditorNode<C>) => void;
  oneditcancel?: (this: EditorNode<C>) => void;
  oneditresize?: (this: EditorNode<C>, size: { width: number; height: number }) => void;
}

/**
 * Registers node type `type` with Node-RED and puts the shared dialog parts into its dialog
 * template (insertParts): the node's template is in the page already, as its editor module is
 * bundled after it in the node's HTML file.
 */
export function registerType<C>(type: string, definition: NodeDefinition<C>): void {
  insertParts(type);
  RED.nodes.registerType(type, definition as never);
}

/** A message of node type `type`'s catalog, e.g. typeText('imis-workflow', 'imis-workflow.triggers.manual'). */
export function typeText(type: string, key: string, subs?: Record<string, unknown>): string {
  const def = RED.nodes.getType(type) as unknown as {
    _?: (key: string, subs?: Record<string, unknown>) => string;
  } | null;
  return def?._ ? def._(key, subs) : key;
}

/** The code of the imis-workflow config node `id`, if there is one. */
export function workflowCode(id: unknown): string | undefined {
  const wf = typeof id === 'string' ? (RED.nodes.node(id) as unknown as { code?: string } | null) : null;
  return wf?.code || undefined;
}

/** An ace editor of Node-RED's RED.editor.createEditor. */
export interface CodeEditor {
  getValue(): string;
  setValue(value: string, cursor?: number): void;
  destroy(): void;
  resize(): void;
}

export function createEditor(id: string, value: string): CodeEditor {
  return RED.editor.createEditor({ id, mode: 'ace/mode/json', value } as never) as unknown as CodeEditor;
}

/** The rows of the open node dialog, the text editor's row apart (for oneditresize). */
export function dialogRowsHeight(): number {
  let height = 0;
  $('#dialog-form > .imis-form > div, #dialog-form > div:not(.imis-form)')
    .not('.node-text-editor-row')
    .each(function () {
      height += $(this).outerHeight(true) ?? 0;
    });
  return height;
}
