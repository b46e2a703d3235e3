// A trigger's run business key and values (the run-labels part). Names as the runtime keeps them
// (src/nodes/lib/run-labels.ts): given, at most 64 characters, each once, at most 25 values.
import type { EditorNode } from './node.js';
import type { FieldDefs } from './settings.js';
import { t } from './settings.js';

const MAX_RUN_VALUES = 25;
const MAX_RUN_VALUE_NAME = 64;

interface RunValue {
  name?: string;
  value?: string;
}

function runValuesProblem(values: unknown): boolean {
  if (values === undefined) return false;
  if (!Array.isArray(values)) return true;
  const named = (values as RunValue[]).filter((v) => v && (v.name || v.value));
  const names = named.map((v) => String(v.name || '').trim());
  return (
    named.length > MAX_RUN_VALUES ||
    names.some((name, i) => !name || name.length > MAX_RUN_VALUE_NAME || names.indexOf(name) !== i)
  );
}

/** The run-labels fields of a trigger's `defaults` (their values come from the runtime, see nodeDefaults). */
export function runLabelsFields(): FieldDefs {
  return {
    businessKey: {},
    runValues: {
      validate: (v: unknown, opt?: unknown) =>
        !runValuesProblem(v) || (opt ? t('runLabels.errors.names') : false),
    },
  };
}

type LabelledNode = EditorNode<{ businessKey?: string; runValues?: RunValue[] }>;

/**
 * Wires the run-labels part: the list of run values (name and template per row), filled from the
 * node (Node-RED fills #node-input-businessKey itself). saveRunLabels reads it back.
 */
export function runLabelsRows(node: LabelledNode): void {
  if (node.businessKey === undefined)
    $('#node-input-businessKey').val(node._def.defaults.businessKey.value as string);
  const $list = $('#node-input-runValues-list');
  // At most MAX_RUN_VALUES rows: the add button goes while the list is full.
  const offerAdd = () => {
    $list
      .closest('.red-ui-editableList')
      .find('.red-ui-editableList-addButton')
      .toggle(($list.editableList('length') as unknown as number) < MAX_RUN_VALUES);
  };
  $list.editableList({
    addButton: t('runLabels.label.add'),
    height: 'auto',
    removable: true,
    sortable: true,
    addItem: (row: JQuery, _index: number, data: RunValue) => {
      const $name = $('<input>', {
        type: 'text',
        class: 'imis-run-value-name',
        maxlength: MAX_RUN_VALUE_NAME,
        style: 'width: 30%',
        placeholder: t('runLabels.placeholder.name'),
      }).val(data?.name || '');
      const $template = $('<input>', {
        type: 'text',
        class: 'imis-run-value-template',
        style: 'width: calc(70% - 10px); margin-left: 5px',
        placeholder: t('runLabels.placeholder.template'),
      }).val(data?.value || '');
      row.append($name, $template);
      offerAdd();
    },
    removeItem: offerAdd,
  } as never);
  for (const v of Array.isArray(node.runValues) ? node.runValues : [])
    $list.editableList('addItem', v as never);
}

export function saveRunLabels(node: LabelledNode): void {
  const values: RunValue[] = [];
  $('#node-input-runValues-list')
    .editableList('items')
    .each(function () {
      const name = String($(this).find('.imis-run-value-name').val()).trim();
      const value = String($(this).find('.imis-run-value-template').val());
      if (name || value.trim()) values.push({ name, value });
    });
  node.runValues = values;
}
