// Editor of imis-iupdate: runs iMIS iUpdate tasks.
import { registerAction } from '../shared/action.js';
import { setting } from '../shared/settings.js';

interface Task {
  name?: string;
  kind?: string;
  wait?: boolean;
  queryParameters?: string;
  timeoutSec?: number;
}

// A task's defaults, as the runtime reads a task (src/nodes/imis-iupdate.ts).
const TASK = setting<Task>('imis-iupdate', 'TaskDefaults') ?? {};

registerAction<{ tasks?: Task[] }>('imis-iupdate', {
  defaults: {
    tasks: { validate: (v: unknown) => Array.isArray(v) && v.length > 0 },
    outputProp: { required: true },
    pollFloorSec: { validate: RED.validators.number() },
    pollCapSec: { validate: RED.validators.number() },
    failRunOnTaskFailure: {},
  },
  credentials: { urls: { type: 'text' } },
  icon: 'imis-iupdate.svg',
  label() {
    return this.tasks?.length
      ? this.tasks.map((t) => t.name).join(', ')
      : this._('imis-iupdate.label.default');
  },
  oneditprepare() {
    const node = this;
    let urls: string[] = [];
    try {
      urls = JSON.parse(String($('#node-input-urls').val() || '[]')) as string[];
    } catch {
      urls = [];
    }
    $('#node-input-task-list').editableList({
      addButton: node._('imis-iupdate.label.add'),
      height: 300,
      removable: true,
      sortable: true,
      addItem: (row: JQuery, _index: number, data: { task?: Task; url?: string }) => {
        const t: Task = { ...TASK, ...data.task };
        const $r1 = $('<div>', { style: 'display: flex; gap: 4px; margin-bottom: 4px' }).appendTo(row);
        $('<input>', {
          type: 'text',
          class: 'imis-task-name',
          placeholder: node._('imis-iupdate.label.name'),
          style: 'flex: 1',
        })
          .val(t.name ?? '')
          .appendTo($r1);
        const $kind = $('<select>', { class: 'imis-task-kind', style: 'width: 120px' }).appendTo($r1);
        $('<option value="polling">').text(node._('imis-iupdate.label.polling')).appendTo($kind);
        $('<option value="standard">').text(node._('imis-iupdate.label.standard')).appendTo($kind);
        $kind.val(t.kind ?? '');
        const $wait = $('<label>', { style: 'width: auto' }).appendTo($r1);
        $('<input>', { type: 'checkbox', class: 'imis-task-wait', style: 'width: auto' })
          .prop('checked', t.wait !== false)
          .appendTo($wait);
        $wait.append(' ' + node._('imis-iupdate.label.wait'));
        $('<input>', {
          type: 'text',
          class: 'imis-task-url',
          placeholder: node._('imis-iupdate.placeholder.url'),
          style: 'width: 100%; margin-bottom: 4px',
        })
          .val(data.url || '')
          .appendTo(row);
        const $r3 = $('<div>', { style: 'display: flex; gap: 4px' }).appendTo(row);
        $('<input>', {
          type: 'text',
          class: 'imis-task-params',
          placeholder: '{"ID": "{{ input.memberId }}"}',
          style: 'flex: 1; font-family: monospace',
        })
          .val(t.queryParameters || '')
          .appendTo($r3);
        $('<input>', {
          type: 'number',
          class: 'imis-task-timeout',
          min: 1,
          style: 'width: 80px',
          title: node._('imis-iupdate.label.timeout'),
        })
          .val(t.timeoutSec ?? '')
          .appendTo($r3);
        $r3.append(' ' + node._('imis-iupdate.label.seconds'));
        $kind
          .on('change', () => {
            $wait.toggle($kind.val() === 'polling');
          })
          .trigger('change');
      },
    } as never);
    (node.tasks ?? []).forEach((t, i) => {
      $('#node-input-task-list').editableList('addItem', { task: t, url: urls[i] || '' });
    });
  },
  oneditsave() {
    const tasks: Task[] = [];
    const urls: string[] = [];
    $('#node-input-task-list')
      .editableList('items')
      .each(function () {
        const $r = $(this);
        tasks.push({
          name: String($r.find('.imis-task-name').val()),
          kind: String($r.find('.imis-task-kind').val()),
          wait: $r.find('.imis-task-wait').prop('checked') as boolean,
          queryParameters: String($r.find('.imis-task-params').val()),
          timeoutSec: Number($r.find('.imis-task-timeout').val()) || TASK.timeoutSec,
        });
        urls.push(String($r.find('.imis-task-url').val()).trim());
      });
    this.tasks = tasks;
    $('#node-input-urls').val(JSON.stringify(urls));
  },
});
