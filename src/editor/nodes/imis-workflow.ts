// Editor of imis-workflow (config node): a workflow's states and transitions, checked as the
// runtime checks them (the definition rules of src/workflow/validate.ts, bundled here), its picture,
// and export, import and copy.
import type { StateDefinition, TransitionDefinition, WorkflowDefinition } from '../../workflow/definition.js';
import { TRIGGER_TYPES, normalizeDefinition } from '../../workflow/definition.js';
import { validateDefinition } from '../../workflow/validate.js';
import type { EditorNode } from '../shared/node.js';
import { registerType, typeText } from '../shared/node.js';
import { errorText, nodeDefaults, postJson, setting } from '../shared/settings.js';
import { definitionOf } from '../workflows/definition.js';
import { preview } from '../workflows/graph.js';
import '../workflows/workflow.css';

// Catalog keys of the rules and the trigger types (imis-workflow.rules.*, imis-workflow.triggers.*).
const RULE_PREFIX = 'imis-workflow.rules.';
const TRIGGER_PREFIX = 'imis-workflow.triggers.';

type WorkflowNode = Partial<WorkflowDefinition>;
type Definition = Partial<WorkflowDefinition> & Record<string, unknown>;
interface Problem {
  severity: 'error' | 'warning';
  text: string;
}

/** The JSONata of Node-RED's editor, to check conditions as one types. */
function jsonataProblem(expression: string): string | undefined {
  const jsonata = (window as unknown as { jsonata?: (expression: string) => unknown }).jsonata;
  if (typeof jsonata !== 'function') return undefined;
  try {
    jsonata(expression);
    return undefined;
  } catch (e) {
    const err = e as { message?: string; code?: string };
    return err.message || String(err.code || e);
  }
}

function otherCodes(id: string): string[] {
  const codes: string[] = [];
  RED.nodes.eachConfig((n: unknown) => {
    const wf = n as { type: string; id: string; code?: string };
    if (wf.type === 'imis-workflow' && wf.id !== id && wf.code) codes.push(wf.code);
    return true;
  });
  return codes;
}

/** Every problem of a definition (errors and warnings), with its text from this node's catalog. */
function problems(def: Definition, id: string): Problem[] {
  return validateDefinition(normalizeDefinition(def), {
    otherCodes: otherCodes(id),
    checkCondition: jsonataProblem,
  }).map((issue) => ({
    severity: issue.severity,
    text: typeText('imis-workflow', RULE_PREFIX + issue.rule, issue.params),
  }));
}

function validDefinition(this: EditorNode<WorkflowNode>, _value: unknown, opt?: unknown): boolean | string {
  const errors = problems(definitionOf(this), this.id).filter((p) => p.severity === 'error');
  if (errors.length === 0) return true;
  return opt ? errors.map((p) => p.text).join('; ') : false;
}

const value = ($row: JQuery, selector: string) => String($row.find(selector).val() ?? '');

// The tables of the dialog as the definition holds them.
function readStates(): StateDefinition[] {
  return $('#node-config-input-states-list')
    .editableList('items')
    .map(function () {
      const $row = $(this);
      const hours = value($row, '.imis-wf-state-timeout');
      return {
        code: value($row, '.imis-wf-state-code').trim(),
        description: value($row, '.imis-wf-state-description'),
        initial: $row.find('.imis-wf-state-initial').is(':checked'),
        final: $row.find('.imis-wf-state-final').is(':checked'),
        timeoutHours: hours === '' ? null : Number(hours),
        onTimeout: value($row, '.imis-wf-state-ontimeout').trim(),
      };
    })
    .get() as StateDefinition[];
}

function readTransitions(): TransitionDefinition[] {
  return $('#node-config-input-transitions-list')
    .editableList('items')
    .map(function () {
      const $row = $(this);
      return {
        code: value($row, '.imis-wf-transition-code').trim(),
        description: value($row, '.imis-wf-transition-description'),
        from: value($row, '.imis-wf-transition-from').trim(),
        to: value($row, '.imis-wf-transition-to').trim(),
        trigger: value($row, '.imis-wf-transition-trigger'),
        enabled: $row.find('.imis-wf-transition-enabled').is(':checked'),
        condition: value($row, '.imis-wf-transition-condition').trim(),
      };
    })
    .get() as TransitionDefinition[];
}

function download(name: string, text: string): void {
  const blob = new Blob([text], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(a.href);
    a.remove();
  }, 0);
}

/** Shows a list from its top (Node-RED's editableList scrolls to each item added). */
function toTop($list: JQuery): void {
  setTimeout(() => $list.closest('.red-ui-editableList-container').scrollTop(0), 0);
}

registerType<WorkflowNode>('imis-workflow', {
  category: 'config',
  // The dialog's title ("Edit iMIS workflow node") and the help's: a label, not the raw type.
  paletteLabel() {
    return this._('imis-workflow.label.palette');
  },
  defaults: nodeDefaults('imis-workflow', {
    code: { required: true },
    description: {},
    enabled: {},
    instanceMode: {},
    keyType: {},
    key: {},
    states: { validate: validDefinition as never },
    transitions: {},
  }),
  label() {
    if (!this.code) return this._('imis-workflow.label.default');
    return this.description ? this.code + ' – ' + this.description : this.code;
  },
  oneditprepare() {
    const node = this;
    const $states = $('#node-config-input-states-list');
    const $transitions = $('#node-config-input-transitions-list');
    let pending: ReturnType<typeof setTimeout> | undefined;

    $('#node-config-input-instanceMode')
      .on('change', function () {
        $('.imis-workflow-key-row').toggle($(this).val() !== 'run');
      })
      .trigger('change');

    const codes = ($list: JQuery, cls: string) =>
      $list
        .editableList('items')
        .map(function () {
          return value($(this), cls).trim();
        })
        .get()
        .filter(Boolean) as string[];
    const refreshLists = () => {
      const $s = $('#imis-wf-state-codes').empty();
      for (const c of codes($states, '.imis-wf-state-code')) $('<option>').attr('value', c).appendTo($s);
      const $t = $('#imis-wf-transition-codes').empty();
      for (const c of codes($transitions, '.imis-wf-transition-code'))
        $('<option>').attr('value', c).appendTo($t);
    };

    const collect = (): Definition => ({
      code: String($('#node-config-input-code').val()).trim(),
      description: String($('#node-config-input-description').val()),
      enabled: $('#node-config-input-enabled').is(':checked'),
      instanceMode: String($('#node-config-input-instanceMode').val()) as WorkflowDefinition['instanceMode'],
      keyType: String($('#node-config-input-keyType').val()) as WorkflowDefinition['keyType'],
      key: String($('#node-config-input-key').val()),
      states: readStates(),
      transitions: readTransitions(),
    });

    const showProblems = () => {
      const found = problems(collect(), node.id);
      const $list = $('#imis-workflow-problems').empty();
      if (found.length === 0)
        $('<li class="imis-wf-ok">').text(node._('imis-workflow.label.noProblems')).appendTo($list);
      for (const p of found)
        $('<li>')
          .addClass('imis-wf-' + p.severity)
          .append(
            $('<i class="fa">').addClass(
              p.severity === 'error' ? 'fa-times-circle' : 'fa-exclamation-triangle',
            ),
          )
          .append(' ')
          .append($('<span>').text(p.text))
          .appendTo($list);
      preview($('#imis-workflow-graph'), collect());
    };
    const changed = () => {
      clearTimeout(pending);
      pending = setTimeout(() => {
        refreshLists();
        showProblems();
      }, 150);
    };

    const cell = (
      $row: JQuery,
      cls: string,
      width: string,
      text?: string,
      placeholder?: string,
      list?: string,
    ) => {
      const $input = $('<input type="text">')
        .addClass(cls)
        .css({ width })
        .val(text || '')
        .appendTo($row);
      if (placeholder) $input.attr('placeholder', placeholder);
      if (list) $input.attr('list', list);
      return $input;
    };
    const check = ($row: JQuery, cls: string, checked: boolean | undefined, title: string) =>
      $('<label class="imis-wf-check">')
        .attr('title', title)
        .append($('<input type="checkbox">').addClass(cls).prop('checked', !!checked))
        .appendTo($row);
    const heading = (cls: string, key: string) =>
      $('<span>')
        .addClass(cls)
        .text(node._('imis-workflow.label.' + key));

    $states.editableList({
      addButton: true,
      removable: true,
      sortable: true,
      height: 190,
      header: $('<div class="imis-wf-head">').append(
        heading('imis-wf-col-code', 'code'),
        heading('imis-wf-col-description', 'description'),
        heading('imis-wf-col-initial', 'initial'),
        heading('imis-wf-col-final', 'final'),
        heading('imis-wf-col-timeout', 'timeout'),
        heading('imis-wf-col-ontimeout', 'onTimeout'),
      ),
      addItem: (container: JQuery, _index: number, data: Partial<StateDefinition>) => {
        const $row = $('<div class="imis-wf-row imis-wf-state">').appendTo(container);
        cell($row, 'imis-wf-state-code imis-wf-col-code', '', data.code);
        cell($row, 'imis-wf-state-description imis-wf-col-description', '', data.description);
        check($row, 'imis-wf-state-initial', data.initial, node._('imis-workflow.label.initial')).addClass(
          'imis-wf-col-initial',
        );
        check($row, 'imis-wf-state-final', data.final, node._('imis-workflow.label.final')).addClass(
          'imis-wf-col-final',
        );
        $('<input type="number" min="0" step="any">')
          .addClass('imis-wf-state-timeout imis-wf-col-timeout')
          .val(data.timeoutHours === null || data.timeoutHours === undefined ? '' : data.timeoutHours)
          .appendTo($row);
        cell(
          $row,
          'imis-wf-state-ontimeout imis-wf-col-ontimeout',
          '',
          data.onTimeout,
          '',
          'imis-wf-transition-codes',
        );
        changed();
      },
      removeItem: changed,
      sortItems: changed,
    } as never);
    $transitions.editableList({
      addButton: true,
      removable: true,
      sortable: true,
      height: 250,
      header: $('<div class="imis-wf-head">').append(
        heading('imis-wf-col-code', 'code'),
        heading('imis-wf-col-from', 'from'),
        heading('imis-wf-col-to', 'to'),
        heading('imis-wf-col-trigger', 'trigger'),
        heading('imis-wf-col-description', 'description'),
      ),
      addItem: (container: JQuery, _index: number, data: Partial<TransitionDefinition>) => {
        const $row = $('<div class="imis-wf-row imis-wf-transition">').appendTo(container);
        cell($row, 'imis-wf-transition-code imis-wf-col-code', '', data.code);
        cell($row, 'imis-wf-transition-from imis-wf-col-from', '', data.from, '', 'imis-wf-state-codes');
        cell($row, 'imis-wf-transition-to imis-wf-col-to', '', data.to, '', 'imis-wf-state-codes');
        const $trigger = $('<select class="imis-wf-transition-trigger imis-wf-col-trigger">').appendTo($row);
        for (const t of TRIGGER_TYPES)
          $('<option>')
            .val(t)
            .text(node._(TRIGGER_PREFIX + t))
            .appendTo($trigger);
        $trigger.val(data.trigger || 'manual');
        cell($row, 'imis-wf-transition-description imis-wf-col-description', '', data.description);
        const $second = $('<div class="imis-wf-row">').appendTo(container);
        check(
          $second,
          'imis-wf-transition-enabled',
          data.enabled !== false,
          node._('imis-workflow.label.enabled'),
        )
          .append(' ' + node._('imis-workflow.label.enabled'))
          .addClass('imis-wf-col-code');
        cell(
          $second,
          'imis-wf-transition-condition imis-wf-col-description',
          '',
          data.condition,
          node._('imis-workflow.placeholder.condition'),
        ).attr('title', node._('imis-workflow.label.condition'));
        changed();
      },
      removeItem: changed,
      sortItems: changed,
    } as never);
    const fillLists = (def: WorkflowNode) => {
      for (const s of def.states || []) $states.editableList('addItem', s);
      for (const t of def.transitions || []) $transitions.editableList('addItem', t);
      // The initial state and the first transition in sight.
      toTop($states);
      toTop($transitions);
    };
    fillLists(node);
    $('#node-config-dialog-edit-form').on('change input', 'input, select', changed);
    changed();

    const fill = (def: WorkflowNode) => {
      $('#node-config-input-code').val(def.code || '');
      $('#node-config-input-description').val(def.description || '');
      $('#node-config-input-enabled').prop('checked', def.enabled !== false);
      $('#node-config-input-instanceMode')
        .val(def.instanceMode || 'record')
        .trigger('change');
      $('#node-config-input-keyType').val(def.keyType || 'template');
      $('#node-config-input-key').val(def.key || '');
      $states.editableList('empty');
      $transitions.editableList('empty');
      fillLists(def);
      changed();
    };

    $('#imis-workflow-export').on('click', (e) => {
      e.preventDefault();
      const def = collect();
      postJson('imis/workflows/export', { definition: def })
        .done((file) => {
          download((def.code || 'workflow') + '.workflow.json', JSON.stringify(file, null, 2));
          RED.notify(node._('imis-workflow.notify.exported', { workflow: def.code }), 'success');
        })
        .fail((xhr) => RED.notify(errorText(xhr), 'error'));
    });
    $('#imis-workflow-import').on('click', (e) => {
      e.preventDefault();
      $('#imis-workflow-import-file').val('').trigger('click');
    });
    $('#imis-workflow-import-file').on('change', function () {
      const file = (this as HTMLInputElement).files?.[0];
      if (!file) return;
      const reader = new FileReader();
      reader.onload = () => {
        postJson<{ workflow: WorkflowDefinition }>('imis/workflows/import', { file: String(reader.result) })
          .done((r) => {
            fill(r.workflow);
            RED.notify(node._('imis-workflow.notify.imported', { workflow: r.workflow.code }), 'success');
          })
          .fail((xhr) => RED.notify(errorText(xhr), 'error'));
      };
      reader.readAsText(file);
    });
    $('#imis-workflow-copy').on('click', (e) => {
      e.preventDefault();
      $('#imis-workflow-copy-row').toggle();
      $('#imis-workflow-copy-code')
        .val(String($('#node-config-input-code').val() || '') + '_COPY')
        .trigger('focus');
    });
    $('#imis-workflow-copy-ok').on('click', (e) => {
      e.preventDefault();
      const code = String($('#imis-workflow-copy-code').val()).trim();
      const def = collect();
      if (!code || code === def.code || otherCodes(node.id).includes(code)) {
        RED.notify(node._('imis-workflow.notify.codeTaken', { workflow: code }), 'error');
        return;
      }
      const copy: Record<string, unknown> & { id: string } = {
        id: RED.nodes.id(),
        type: 'imis-workflow',
        users: [],
        code,
        description: def.description,
        enabled: def.enabled,
        instanceMode: def.instanceMode,
        keyType: def.keyType,
        key: def.key,
        states: JSON.parse(JSON.stringify(def.states)) as StateDefinition[],
        transitions: JSON.parse(JSON.stringify(def.transitions)) as TransitionDefinition[],
        _def: RED.nodes.getType('imis-workflow'),
        changed: true,
      };
      // The config version the runtime states (src/nodes/lib/migrations.ts).
      copy.cfgVersion = setting('imis-workflow', 'CfgVersion');
      RED.nodes.add(copy as never);
      RED.editor.validateNode(copy as never);
      RED.history.push({ t: 'add', nodes: [copy.id], dirty: RED.nodes.dirty() } as never);
      RED.nodes.dirty(true);
      const sidebar = (RED.sidebar as unknown as { config?: { refresh?: () => void } }).config;
      sidebar?.refresh?.();
      $('#imis-workflow-copy-row').hide();
      RED.notify(node._('imis-workflow.notify.copied', { workflow: code, from: def.code }), 'success');
    });

    // Deleting a workflow with active instances asks first (they stay in the store).
    let confirmed = false;
    let deployed: { id: string; code: string; active: number } | undefined;
    $.getJSON('imis/workflows').done((list: { id: string; code: string; active: number }[]) => {
      deployed = list.find((w) => w.id === node.id || w.code === node.code);
      if (deployed)
        $('#imis-workflow-active').text(node._('imis-workflow.label.active', { count: deployed.active }));
    });
    const $tray = $('#node-config-dialog-edit-form').closest('.red-ui-tray');
    const toolbar = $tray.find('.red-ui-tray-toolbar')[0];
    toolbar?.addEventListener(
      'click',
      (e) => {
        const button = $(e.target as Element).closest('.leftButton');
        if (!button.length || confirmed || !deployed || !(deployed.active > 0)) return;
        e.stopPropagation();
        e.preventDefault();
        const $dialog = $('<div id="imis-workflow-delete-confirm">').text(
          node._('imis-workflow.prompt.delete', { workflow: node.code, count: deployed.active }),
        );
        $dialog.dialog({
          modal: true,
          title: node._('imis-workflow.prompt.deleteTitle'),
          width: 420,
          close: () => $dialog.dialog('destroy').remove(),
          buttons: [
            { text: node._('imis-workflow.prompt.cancel'), click: () => $dialog.dialog('close') },
            {
              text: node._('imis-workflow.prompt.confirmDelete'),
              class: 'primary',
              click: () => {
                $dialog.dialog('close');
                confirmed = true;
                button.trigger('click');
              },
            },
          ],
        });
      },
      true,
    );
  },
  oneditsave() {
    this.states = readStates();
    this.transitions = readTransitions();
    this.code = String($('#node-config-input-code').val()).trim();
  },
});
