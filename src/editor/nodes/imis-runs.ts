// The "iMIS runs" sidebar: the runs dashboard (../runs/dashboard.ts, shared with the full-page
// view), loaded from the admin API and fed by the editor: its credentials, flows, dialogs and the
// runtime's comms events.
import type { Answer } from '../runs/api.js';
import type { Flow, Params } from '../runs/dashboard.js';
import { createDashboard } from '../runs/dashboard.js';
import { errorText } from '../shared/settings.js';

// A plugin's message catalog is registered under its set id (module/plugin).
const t = (key: string, subs?: Record<string, unknown>) =>
  RED._('@imisflow/node-red-imis/imis-runs:imis-runs.' + key, subs as never);

function request<T>(method: 'GET' | 'POST', path: string, params?: Params): Promise<Answer<T>> {
  return new Promise((resolve, reject) => {
    $.ajax({
      method,
      url: 'imis/' + path,
      data: method === 'GET' ? params : params && JSON.stringify(params),
      contentType: method === 'GET' ? undefined : 'application/json',
      dataType: 'json',
    })
      .done((body: T, _status, xhr) => {
        resolve({
          body,
          next: xhr.getResponseHeader('X-Next-Page'),
          total: xhr.getResponseHeader('X-Total-Count'),
        });
      })
      .fail((xhr) => reject(new Error(errorText(xhr))));
  });
}

function confirm(text: string): Promise<boolean> {
  return new Promise((resolve) => {
    const notification = RED.notify(text, {
      modal: true,
      fixed: true,
      type: 'warning',
      buttons: [
        {
          text: t('dashboard.cancel'),
          click: () => {
            notification.close();
            resolve(false);
          },
        },
        {
          text: t('dashboard.confirm'),
          class: 'primary imis-runs-confirm',
          click: () => {
            notification.close();
            resolve(true);
          },
        },
      ],
    } as never) as unknown as { close(): void };
  });
}

function flows(): Flow[] {
  const list: Flow[] = [];
  RED.nodes.eachWorkspace((w: object) => {
    const ws = w as { id: string; label?: string };
    list.push({ id: ws.id, label: ws.label || ws.id });
    return true;
  });
  return list;
}

RED.plugins.registerPlugin('imis-runs', {
  type: 'imis-runs-sidebar',
  onadd() {
    const $content = $('<div class="imis-runs">');
    const dashboard = createDashboard($content[0], {
      t,
      request,
      flows,
      currentFlow: () => RED.workspaces.active() as unknown as string,
      confirm,
      notify: (text, type) => RED.notify(text, type),
      reveal: (id) => RED.view.reveal(id),
      openFull: () => window.open('imis/runs-view', 'imis-runs-view'),
      subscribe: (topic, listener) => {
        RED.comms.subscribe('imis/' + topic, (_topic: string, data: unknown) => {
          if ($content.is(':visible')) listener(data as never);
        });
      },
    });
    RED.sidebar.addTab({
      id: 'imis-runs',
      label: t('label'),
      name: t('name'),
      iconClass: 'fa fa-history',
      content: $content,
      onchange: () => void dashboard.refresh(),
    } as never);
    if ($content.is(':visible')) void dashboard.refresh();
    RED.events.on('workspace:change', () => {
      if ($content.is(':visible')) dashboard.flowChanged();
    });
    RED.events.on('flows:change', () => dashboard.flowsChanged());
  },
} as never);
