// The "iMIS workflows" sidebar: the workflows (Code, Description, Initial State, Active Instances),
// a picture of each (../workflows/graph.ts) and its Instances view with filters, paging and the
// actions Advance, History, Reset to State and Delete. At the sidebar's default width the
// instances are cards (a label beside each value); wider, a table (workflows.css).
import type { instanceView } from '../../nodes/lib/workflows.js';
import type { WorkflowDefinition } from '../../workflow/definition.js';
import { postJson } from '../shared/settings.js';
import { errorText } from '../shared/settings.js';
import { definitionOf } from '../workflows/definition.js';
import { drawGraph, layoutOf, tr, triggerName } from '../workflows/graph.js';
import '../workflows/workflows.css';

/** An instance as the instances API answers it. */
type Instance = ReturnType<typeof instanceView>;
/** An instance of GET …/instances/:key: with the Manual transitions leaving its state. */
type InstanceDetail = Instance & { manual: { code: string; description?: string; to: string }[] };

/** A deployed workflow of GET imis/workflows. */
interface Deployed {
  id: string;
  code: string;
  active: number;
}

/** An imis-workflow config node as the editor holds it. */
type WorkflowNode = Partial<WorkflowDefinition> & { id: string; type: string };

interface HistoryEntry {
  kind: string;
  at: string;
  from?: string;
  to?: string;
  transition?: string;
  trigger: string;
  actor?: string;
}

const PAGE = 20;
const COLUMNS = [
  'key',
  'state',
  'stateDescription',
  'since',
  'timeInState',
  'timesOut',
  'lastTrigger',
  'lastTransition',
  'actions',
] as const;

function fail(xhr: JQuery.jqXHR): void {
  RED.notify(errorText(xhr), 'error');
}

function path(code: string, key?: string, rest = ''): string {
  return (
    'imis/workflows/' +
    encodeURIComponent(code) +
    '/instances' +
    (key === undefined ? '' : '/' + encodeURIComponent(key)) +
    rest
  );
}

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s >= 86400)
    return (
      tr('units.d', { n: Math.floor(s / 86400) }) + ' ' + tr('units.h', { n: Math.floor((s % 86400) / 3600) })
    );
  if (s >= 3600)
    return (
      tr('units.h', { n: Math.floor(s / 3600) }) + ' ' + tr('units.min', { n: Math.floor((s % 3600) / 60) })
    );
  if (s >= 60) return tr('units.min', { n: Math.floor(s / 60) });
  return tr('units.s', { n: s });
}

const time = (iso: string | undefined) => (iso ? new Date(iso).toLocaleString() : '');

let $content: JQuery;
let $list: JQuery;
let $detail: JQuery;
let timer: ReturnType<typeof setInterval> | undefined;
let selected: string | null = null;
let view: {
  code: string;
  node: WorkflowNode;
  cursors: (string | undefined)[];
  page: number;
  filters: Record<string, unknown>;
};

/** Workflows: those of the editor (deployed or not), by code. */
function workflows(): WorkflowNode[] {
  const list: WorkflowNode[] = [];
  RED.nodes.eachConfig((n: unknown) => {
    if ((n as WorkflowNode).type === 'imis-workflow') list.push(n as WorkflowNode);
    return true;
  });
  return list.sort((a, b) => String(a.code).localeCompare(String(b.code)));
}

function refreshList(): JQuery.jqXHR<Deployed[]> {
  return $.getJSON('imis/workflows').done((answer: Deployed[]) => {
    const deployed = new Map(answer.map((w) => [w.code, w]));
    const rows = workflows();
    $list.empty();
    if (!rows.length)
      $('<tr>')
        .append($('<td colspan="4">').text(tr('none')))
        .appendTo($list);
    for (const n of rows) {
      const d = n.code ? deployed.get(n.code) : undefined;
      const initial = (n.states || []).find((s) => s.initial);
      $('<tr class="imis-wf-row-workflow">')
        .attr('data-code', n.code ?? '')
        .toggleClass('selected', selected === n.id)
        .append($('<td class="imis-wf-code">').text(n.code || ''))
        .append($('<td>').text(n.description || ''))
        .append($('<td>').text(initial ? initial.code : ''))
        .append($('<td class="imis-wf-active">').text(d ? d.active : tr('notDeployed')))
        .on('click', () => select(n.id))
        .appendTo($list);
    }
    if (selected && !RED.nodes.node(selected)) {
      selected = null;
      $detail.empty();
    }
  });
}

function select(id: string): void {
  selected = id;
  const n = RED.nodes.node(id) as unknown as WorkflowNode;
  $list.find('tr').removeClass('selected');
  $list.find('tr[data-code="' + CSS.escape(n.code || '') + '"]').addClass('selected');
  $detail.empty();
  view = { code: n.code ?? '', node: n, cursors: [undefined], page: 0, filters: {} };
  const title = n.code + (n.description ? ' – ' + n.description : '');
  $('<h4>').text(title).appendTo($detail);
  const $graph = $('<div class="imis-wf-graph-box">').appendTo($detail);
  layoutOf(definitionOf(n), $content.width() ?? 0)
    .done((layout) => drawGraph($graph, layout, title))
    .fail(fail);
  $('<h4>').text(tr('instances')).appendTo($detail);
  const $filters = $('<div class="imis-wf-filters">').appendTo($detail);
  const $state = $('<select class="imis-wf-filter-state">').append(
    $('<option value="">').text(tr('filters.all')),
  );
  for (const s of n.states || []) $('<option>').val(s.code).text(s.code).appendTo($state);
  const $from = $('<input type="datetime-local" class="imis-wf-filter-from">');
  const $to = $('<input type="datetime-local" class="imis-wf-filter-to">');
  const $flagged = $('<input type="checkbox" class="imis-wf-filter-flagged">');
  $filters
    .append(
      $('<label>')
        .text(tr('filters.state') + ' ')
        .append($state),
    )
    .append(
      $('<label>')
        .text(tr('filters.sinceFrom') + ' ')
        .append($from),
    )
    .append(
      $('<label>')
        .text(tr('filters.sinceTo') + ' ')
        .append($to),
    )
    .append(
      $('<label>')
        .append($flagged)
        .append(' ' + tr('filters.flagged')),
    )
    .append(
      $('<button class="red-ui-button imis-wf-filter-apply">')
        .text(tr('filters.apply'))
        .on('click', () => {
          const iso = ($i: JQuery) => ($i.val() ? new Date(String($i.val())).toISOString() : undefined);
          view.filters = {
            state: $state.val() || undefined,
            sinceFrom: iso($from),
            sinceTo: iso($to),
            flagged: $flagged.is(':checked') || undefined,
          };
          view.cursors = [undefined];
          view.page = 0;
          loadInstances();
        }),
    );
  const $table = $('<table class="imis-wf-table imis-wf-instances">').appendTo(
    $('<div class="imis-wf-scroll">').appendTo($detail),
  );
  const $head = $('<tr>').appendTo($('<thead>').appendTo($table));
  for (const c of COLUMNS)
    $('<th>')
      .text(tr('columns.' + c))
      .appendTo($head);
  $('<tbody>').appendTo($table);
  const $paging = $('<div class="imis-wf-paging">').appendTo($detail);
  $('<button class="red-ui-button imis-wf-prev">')
    .text(tr('paging.previous'))
    .on('click', () => {
      if (view.page > 0) {
        view.page--;
        loadInstances();
      }
    })
    .appendTo($paging);
  $('<span class="imis-wf-page">').appendTo($paging);
  $('<button class="red-ui-button imis-wf-next">')
    .text(tr('paging.next'))
    .on('click', () => {
      if (view.cursors[view.page + 1]) {
        view.page++;
        loadInstances();
      }
    })
    .appendTo($paging);
  loadInstances();
}

const stateOf = (code: string) => (view.node.states || []).find((s) => s.code === code);

function confirmDialog(text: string, yes: () => void): void {
  const $dialog = $('<div class="imis-wf-confirm">').text(text);
  $dialog.dialog({
    modal: true,
    title: tr('confirm.title'),
    width: 400,
    close: () => $dialog.dialog('destroy').remove(),
    buttons: [
      { text: tr('confirm.no'), click: () => $dialog.dialog('close') },
      {
        text: tr('confirm.yes'),
        class: 'primary',
        click: () => {
          $dialog.dialog('close');
          yes();
        },
      },
    ],
  });
}

function loadInstances(): void {
  const q: Record<string, unknown> = { limit: PAGE, after: view.cursors[view.page], ...view.filters };
  for (const k of Object.keys(q)) if (q[k] === undefined) delete q[k];
  $.getJSON(path(view.code), q)
    .done((page: { instances: Instance[]; next?: string }) => {
      view.cursors[view.page + 1] = page.next;
      const $body = $detail.find('.imis-wf-instances tbody').empty();
      if (!page.instances.length)
        $('<tr class="imis-wf-none">')
          .append($('<td colspan="9">').text(tr('noInstances')))
          .appendTo($body);
      for (const i of page.instances) instanceRow(i).appendTo($body);
      $detail.find('.imis-wf-page').text(tr('paging.page', { page: view.page + 1 }));
      $detail.find('.imis-wf-prev').prop('disabled', view.page === 0);
      $detail.find('.imis-wf-next').prop('disabled', !page.next);
    })
    .fail(fail);
}

function instanceRow(i: Instance): JQuery {
  const state = stateOf(i.state);
  const $row = $('<tr class="imis-wf-instance">').attr('data-key', i.key);
  const flagged = i.flags?.length;
  // Each cell names its column: the cards of the narrow sidebar show it (workflows.css).
  const cell = (column: (typeof COLUMNS)[number], cls = '') =>
    $('<td>')
      .addClass(cls)
      .attr('data-label', tr('columns.' + column))
      .appendTo($row);
  cell('key', 'imis-wf-key').text(i.key);
  cell('state', 'imis-wf-state')
    .text(i.state)
    .toggleClass('imis-wf-flagged', !!flagged)
    .attr('title', flagged ? tr('flagged') : '');
  cell('stateDescription').text(state ? state.description || '' : tr('flagged'));
  cell('since').text(time(i.since));
  cell('timeInState').text(duration(i.timeInStateMs));
  // A state with a timeout: when the instance times out of it.
  cell('timesOut', 'imis-wf-times-out')
    .text(time(i.dueAt))
    .attr('data-due', i.dueAt ?? '');
  cell('lastTrigger', 'imis-wf-last-trigger').text(i.lastTrigger ? triggerName(i.lastTrigger) : '');
  cell('lastTransition', 'imis-wf-last-transition').text(i.lastTransition || '');
  const $actions = cell('actions', 'imis-wf-actions');
  const $extra = $('<div class="imis-wf-extra">');
  const button = (cls: string, label: string, click: () => void) =>
    $('<button class="red-ui-button red-ui-button-small">')
      .addClass(cls)
      .text(label)
      .on('click', (e) => {
        e.preventDefault();
        click();
      })
      .appendTo($actions);
  button('imis-wf-advance', tr('actions.advance'), () => {
    $.getJSON(path(view.code, i.key))
      .done((inst: InstanceDetail) => {
        $extra.empty().appendTo($actions);
        if (!inst.manual.length) {
          $extra.text(tr('noManual', { state: inst.state }));
          return;
        }
        const $choice = $('<select class="imis-wf-advance-choice">').appendTo($extra);
        for (const t of inst.manual)
          $('<option>')
            .val(t.code)
            .text(t.code + ' \u2192 ' + t.to)
            .appendTo($choice);
        $('<button class="red-ui-button red-ui-button-small imis-wf-advance-go">')
          .text(tr('actions.go'))
          .on('click', () => {
            postJson<{ from: string; to: string }>(path(view.code, i.key, '/advance'), {
              transition: $choice.val(),
            })
              .done((event) => {
                RED.notify(tr('notify.advanced', { key: i.key, from: event.from, to: event.to }), 'success');
                loadInstances();
                void refreshList();
              })
              .fail(fail);
          })
          .appendTo($extra);
      })
      .fail(fail);
  });
  button('imis-wf-history', tr('actions.history'), () => {
    $.getJSON(path(view.code, i.key, '/history'))
      .done((entries: HistoryEntry[]) => {
        $extra.empty().appendTo($actions);
        const $ol = $('<ol class="imis-wf-history-list">').appendTo($extra);
        if (!entries.length) $('<li>').text(tr('history.none')).appendTo($ol);
        for (const h of entries) {
          const what = tr('history.' + h.kind, { from: h.from, to: h.to, transition: h.transition });
          const who = triggerName(h.trigger) + (h.actor ? ', ' + h.actor : '');
          $('<li>')
            .text(time(h.at) + ': ' + what + ' (' + who + ')')
            .appendTo($ol);
        }
      })
      .fail(fail);
  });
  button('imis-wf-reset', tr('actions.reset'), () => {
    $extra.empty().appendTo($actions);
    const $to = $('<select class="imis-wf-reset-choice">').appendTo($extra);
    for (const s of view.node.states || []) $('<option>').val(s.code).text(s.code).appendTo($to);
    $('<button class="red-ui-button red-ui-button-small imis-wf-reset-go">')
      .text(tr('actions.go'))
      .on('click', () => {
        const to = String($to.val());
        confirmDialog(tr('confirm.reset', { key: i.key, workflow: view.code, from: i.state, to }), () => {
          postJson(path(view.code, i.key, '/reset'), { state: to })
            .done(() => {
              RED.notify(tr('notify.reset', { key: i.key, to }), 'success');
              loadInstances();
              void refreshList();
            })
            .fail(fail);
        });
      })
      .appendTo($extra);
  });
  button('imis-wf-delete', tr('actions.delete'), () => {
    confirmDialog(tr('confirm.delete', { key: i.key, workflow: view.code }), () => {
      postJson(path(view.code, i.key, '/delete'))
        .done(() => {
          RED.notify(tr('notify.deleted', { key: i.key }), 'success');
          loadInstances();
          void refreshList();
        })
        .fail(fail);
    });
  });
  return $row;
}

RED.plugins.registerPlugin('imis-workflows', {
  type: 'imis-workflows-sidebar',
  onadd() {
    $content = $('<div class="imis-workflows">');
    $('<div class="imis-wf-intro">').text(tr('intro')).appendTo($content);
    const $table = $('<table class="imis-wf-table imis-wf-list">').appendTo($content);
    const $head = $('<tr>').appendTo($('<thead>').appendTo($table));
    for (const c of ['code', 'description', 'initial', 'active'])
      $('<th>')
        .text(tr('columns.' + c))
        .appendTo($head);
    $list = $('<tbody>').appendTo($table);
    $detail = $('<div class="imis-wf-detail">').appendTo($content);
    RED.sidebar.addTab({
      id: 'imis-workflows',
      label: tr('label'),
      name: tr('name'),
      iconClass: 'fa fa-sitemap',
      content: $content,
      onchange: () => {
        void refreshList();
        clearInterval(timer);
        timer = setInterval(() => {
          if ($content.is(':visible')) void refreshList();
        }, 5000);
      },
      onremove: () => clearInterval(timer),
    } as never);
  },
} as never);
