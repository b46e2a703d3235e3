// The dialog rows several nodes share: failure policy, automatic retry, and the one-field rows
// (iMIS server, output, workflow, name) and secret URL rows put in by insertParts.
import type { EditorNode } from './node.js';
import { editorNamespace, runsText } from './settings.js';
import protection from './protection.html';
import runLabels from './run-labels.html';
import testPayload from './test-payload.html';

interface Policy {
  onError?: string;
  retries?: number;
  retryDelaySec?: number;
}

function beforeName($rows: JQuery): void {
  const $name = $('#node-input-name').closest('.form-row');
  if ($name.length) $rows.insertBefore($name);
  else $rows.appendTo($('#dialog-form'));
}

/**
 * The failure policy row of an action node's dialog (property `onError`: fail, continue or
 * succeed), put before the Name row. Node-RED fills dialog fields before oneditprepare runs,
 * so the row sets its own value; it reads it back at save like any node-input field.
 */
export function onErrorRow(node: EditorNode<Policy>): void {
  const $select = $('<select>', { id: 'node-input-onError', style: 'width: 70%' });
  for (const choice of ['fail', 'continue', 'succeed'])
    $('<option>')
      .val(choice)
      .text(runsText('onError.' + choice))
      .appendTo($select);
  const $row = $('<div>', { class: 'form-row' }).append(
    $('<label>', { for: 'node-input-onError' }).append(
      $('<i>', { class: 'fa fa-exclamation-triangle' }),
      ' ',
      $('<span>').text(runsText('onError.label')),
    ),
    $select,
  );
  beforeName($row);
  $select.val(node.onError || 'fail');
}

/**
 * The automatic retry row of a trigger's dialog (properties `retries`, `retryDelaySec`), put
 * before the Name row; like onErrorRow, it sets its own values. Its inputs sit together beside
 * the label, never wrapped under it.
 */
export function retryRow(node: EditorNode<Policy>): void {
  const $retries = $('<input>', {
    type: 'number',
    id: 'node-input-retries',
    min: 0,
    max: 10,
    style: 'width: 60px',
  });
  const $delay = $('<input>', {
    type: 'number',
    id: 'node-input-retryDelaySec',
    min: 1,
    max: 86400,
    style: 'width: 80px',
  });
  const $row = $('<div>', { class: 'form-row imis-retry-row' }).append(
    $('<label>', { for: 'node-input-retries' }).append(
      $('<i>', { class: 'fa fa-repeat' }),
      ' ',
      $('<span>').text(runsText('retry.label')),
    ),
    $('<span>', { class: 'imis-retry-fields' }).append(
      $retries,
      ' ',
      $('<span>').text(runsText('retry.times')),
      ' ',
      $delay,
      ' ',
      $('<span>').text(runsText('retry.seconds')),
    ),
  );
  const $tip = $('<div>', { class: 'form-tips' }).text(runsText('retry.tip'));
  beforeName($row.add($tip));
  $retries.val(node.retries === undefined ? 0 : node.retries);
  $delay.val(node.retryDelaySec === undefined ? 30 : node.retryDelaySec);
}

/** The label of an action node's first output (`label`, or none): says when failed messages also leave by it. */
export function onErrorOutputLabel(node: EditorNode<Policy>, label?: string): string | undefined {
  if (node.onError !== 'continue') return label;
  return (label ? label + ' ' : '') + runsText('onError.port');
}

/**
 * The one-field rows several dialogs share, by part name: the node property the field edits,
 * the label's icon and text, and the field's placeholder (keys of the imis-editor catalog, or of
 * Node-RED's own).
 */
const FIELD_ROWS: Record<string, { property: string; icon: string; label: string; placeholder?: string }> = {
  server: { property: 'server', icon: 'fa-server', label: 'imis-editor.label.server' },
  workflow: { property: 'workflow', icon: 'fa-sitemap', label: 'imis-editor.label.workflow' },
  output: { property: 'outputProp', icon: 'fa-sign-out', label: 'imis-editor.label.outputProp' },
  name: {
    property: 'name',
    icon: 'fa-tag',
    label: 'node-red:common.label.name',
    placeholder: 'node-red:common.label.name',
  },
};

/**
 * The secret URL rows (see secretUrlRow), by part name: the label's icon and text, and the
 * Copy and Regenerate buttons' titles, in the node's own words (`@type.…`: its catalog).
 */
const URL_ROWS: Record<string, { icon: string; label: string }> = {
  url: { icon: 'fa-globe', label: '@type.label.url' },
  link: { icon: 'fa-link', label: '@type.label.link' },
};

/** The dialog parts written as HTML templates. */
const TEMPLATES: Record<string, string> = {
  protection,
  'run-labels': runLabels,
  'test-payload': testPayload,
};

function labelFor(id: string, icon: string, key: string): JQuery {
  return $('<label>', { for: id }).append(
    $('<i>', { class: 'fa ' + icon }),
    ' ',
    $('<span>', { 'data-i18n': key }),
  );
}

/** The HTML of part `name`. */
function part(name: string): string {
  const field = FIELD_ROWS[name];
  const url = URL_ROWS[name];
  const $row = $('<div>', { class: 'form-row' });
  if (field) {
    const $input = $('<input>', { type: 'text', id: 'node-input-' + field.property });
    if (field.placeholder) $input.attr('data-i18n', '[placeholder]' + field.placeholder);
    $row.append(labelFor('node-input-' + field.property, field.icon, field.label), ' ', $input);
  } else if (url) {
    $row.addClass('imis-url-row').append(
      labelFor('node-input-url', url.icon, url.label),
      ' ',
      $('<input>', { type: 'text', id: 'node-input-url', readonly: true }),
      ' ',
      $('<button>', {
        id: 'node-input-url-copy',
        class: 'red-ui-button',
        'data-i18n': '[title]@type.label.copy',
      }).append($('<i>', { class: 'fa fa-clipboard' })),
      ' ',
      $('<button>', {
        id: 'node-input-url-regenerate',
        class: 'red-ui-button',
        'data-i18n': '[title]@type.label.regenerate',
      }).append($('<i>', { class: 'fa fa-refresh' })),
      ' ',
      $('<input>', { type: 'hidden', id: 'node-input-token' }),
    );
  } else if (TEMPLATES[name] !== undefined) {
    return TEMPLATES[name];
  } else {
    throw new Error(`No dialog part "${name}"`);
  }
  return $row.prop('outerHTML') as string;
}

/**
 * Puts the shared dialog parts into the dialog template of node type `type`, each at its
 * <div data-imis-part="name"></div>. A part's message keys are in the imis-editor catalog
 * (`imis-editor.…`), or in the node's own where the wording is the node's (`@type.…`). Run once,
 * from the node's module (bundled after its template): Node-RED then fills the parts' inputs like
 * the rest of the dialog. The template is wrapped in a `.imis-form` (shared/form.css).
 */
export function insertParts(type: string): void {
  const namespace = editorNamespace();
  const $template = $('script[data-template-name="' + type + '"]');
  $template.html(
    '<div class="imis-form">' +
      ($template.html() ?? '').replace(/<div data-imis-part="([\w-]+)"><\/div>/g, (_m, name: string) =>
        part(name)
          .replace(/data-i18n="(\[\w+\])?imis-editor\./g, 'data-i18n="$1' + namespace + ':imis-editor.')
          .replace(/data-i18n="(\[\w+\])?@type\./g, 'data-i18n="$1' + type + '.'),
      ) +
      '</div>',
  );
}
