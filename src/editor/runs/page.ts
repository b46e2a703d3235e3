// The full-page runs view (GET <admin>/imis/runs-view, src/nodes/lib/runs-api.ts): a heading and
// the dashboard, with its texts from the page (#imis-runs-texts, the imis-runs catalog) and the
// editor that opened it (if it did) for flows, credentials and theme.
import type { RED as EditorRED } from '@node-red/editor-client';
import type { Answer } from './api.js';
import type { Dashboard, Flow, Params } from './dashboard.js';
import { createDashboard } from './dashboard.js';
import { el } from './dom.js';
import './page.css';

type Catalog = { [key: string]: string | Catalog };
type Listener = (data: never) => void;

interface Opener {
  settings: { get(name: string): { access_token?: string } | null };
  nodes: EditorRED['nodes'];
  view: { reveal(id: string): void };
}

function editorOf(): { red: Opener; window: Window } | null {
  try {
    const opener = window.opener as (Window & { RED?: Opener }) | null;
    return opener?.RED ? { red: opener.RED, window: opener } : null;
  } catch {
    return null;
  }
}

function mount(root: HTMLElement, texts: Catalog): Dashboard {
  const editor = editorOf();
  const opener = editor?.red ?? null;
  document.title = String(texts.name);
  const t = (key: string, subs?: Record<string, unknown>): string => {
    const value = key
      .split('.')
      .reduce<string | Catalog | undefined>((o, k) => (typeof o === 'object' ? o[k] : undefined), texts);
    return typeof value === 'string'
      ? value.replace(/__(\w+)__/g, (_m, n: string) =>
          subs && subs[n] !== undefined && subs[n] !== null ? String(subs[n]) : '',
        )
      : key;
  };
  root.before(el('header', { class: 'imis-runs-page-header' }, [el('h1', { text: String(texts.name) })]));
  const token = () => opener?.settings.get('auth-tokens')?.access_token;
  const request = async <T>(method: 'GET' | 'POST', path: string, params?: Params): Promise<Answer<T>> => {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (token()) headers.Authorization = 'Bearer ' + token();
    let url = path;
    const init: RequestInit = { method, headers, credentials: 'same-origin' };
    if (method === 'GET' && params) {
      const query = Object.entries(params)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]);
      url += '?' + new URLSearchParams(query).toString();
    } else if (params) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(params);
    }
    const res = await fetch(url, init);
    const body = (await res.json()) as T & { error?: string };
    if (!res.ok) throw new Error(body?.error ? body.error : res.statusText);
    return { body, next: res.headers.get('X-Next-Page'), total: res.headers.get('X-Total-Count') };
  };
  const flows = (): Flow[] => {
    const list: Flow[] = [];
    opener?.nodes.eachWorkspace((w: object) => {
      const ws = w as { id: string; label?: string };
      list.push({ id: ws.id, label: ws.label || ws.id });
      return true;
    });
    return list;
  };
  const listeners: Record<string, Listener> = {};
  const dash = createDashboard(root, {
    t,
    request,
    flows,
    confirm: (text) => Promise.resolve(window.confirm(text)),
    notify: (text, type) => {
      if (type === 'error' || type === 'warning') window.alert(text);
    },
    reveal: opener ? (id) => opener.view.reveal(id) : null,
    subscribe: (topic, listener) => {
      listeners['imis/' + topic] = listener;
    },
  });
  if (editor) adoptTheme(editor.window);
  void dash.refresh();
  liveUpdates(token, listeners, () => void dash.refresh());
  return dash;
}

/**
 * Live updates for the full page from the runtime's comms WebSocket (<admin>/comms, beside the
 * page's <admin>/imis/runs-view), as the editor gets them: with the editor's access token when
 * the editor opened the page and Node-RED has adminAuth. While it is not connected (no access, a
 * restart) the page polls every 5 s, and tries to connect again.
 */
function liveUpdates(
  token: () => string | undefined,
  listeners: Record<string, Listener>,
  poll: () => void,
): void {
  let polling: ReturnType<typeof setInterval> | undefined;
  let denied = false;
  const startPolling = () => {
    polling ??= setInterval(poll, 5000);
  };
  const connect = () => {
    const url = new URL('../comms', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws: WebSocket;
    try {
      ws = new WebSocket(url.href);
    } catch {
      startPolling();
      return;
    }
    const subscribe = () => {
      for (const topic of Object.keys(listeners)) ws.send(JSON.stringify({ subscribe: topic }));
      clearInterval(polling);
      polling = undefined;
      document.body.setAttribute('data-live', 'comms');
      poll(); // what happened before the connection
    };
    ws.onopen = () => {
      const access = token();
      if (access) ws.send(JSON.stringify({ auth: access }));
      else subscribe();
    };
    ws.onmessage = (event: MessageEvent<string>) => {
      let data: unknown;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      const answer = data as { auth?: string } | null;
      if (answer?.auth === 'ok') return subscribe();
      if (answer?.auth === 'fail') {
        denied = true;
        return;
      }
      for (const m of (Array.isArray(data) ? data : [data]) as { topic?: string; data: never }[])
        if (m?.topic && listeners[m.topic]) listeners[m.topic](m.data);
    };
    ws.onclose = () => {
      document.body.setAttribute('data-live', 'polling');
      startPolling();
      if (!denied) setTimeout(connect, 5000);
    };
  };
  startPolling();
  if (window.WebSocket && window.URL) connect();
}

/**
 * The editor's theme (Node-RED's --red-ui-* variables, a dark theme's too): the page links
 * Node-RED's default stylesheet; the values the editor computes for its variables win.
 */
function adoptTheme(editor: Window): void {
  let theme: CSSStyleDeclaration;
  const names = new Set<string>();
  try {
    theme = editor.getComputedStyle(editor.document.documentElement);
    for (const sheet of editor.document.styleSheets) {
      let rules: CSSRuleList;
      try {
        rules = sheet.cssRules;
      } catch {
        continue; // another origin's sheet
      }
      for (const rule of rules)
        if ('style' in rule)
          for (const name of (rule as CSSStyleRule).style) if (name.startsWith('--red-ui-')) names.add(name);
    }
  } catch {
    return;
  }
  for (const name of names) {
    const value = theme.getPropertyValue(name);
    if (value) document.documentElement.style.setProperty(name, value.trim());
  }
}

const root = document.getElementById('imis-runs-root');
const texts = document.getElementById('imis-runs-texts');
if (root && texts) mount(root, JSON.parse(texts.textContent ?? '{}') as Catalog);
