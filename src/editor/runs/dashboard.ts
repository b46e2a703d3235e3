// The iMIS Runs dashboard, shared by the editor's "iMIS runs" sidebar (nodes/imis-runs.ts) and the
// full-page view (page.ts, at GET <admin>/imis/runs-view). Plain DOM: the full page has no library.
// What differs between the two (how to call the admin API, texts, flows, confirmation, live
// updates) comes in as `env`.
import type {
  Answer,
  ManualTrigger,
  NodeRef,
  RefusedCall,
  RejectedNotice,
  RunCounts,
  RunDetail,
  RunStatus,
  RunSummary,
} from './api.js';
import { el, option } from './dom.js';
import './dashboard.css';

export type Texts = (key: string, subs?: Record<string, unknown>) => string;
export type Params = Record<string, string | number | boolean | undefined | object>;

export interface Flow {
  id: string;
  label: string;
}

export interface DashboardEnv {
  t: Texts;
  request<T>(method: 'GET' | 'POST', path: string, params?: Params): Promise<Answer<T>>;
  flows(): Flow[];
  /** The open flow's id (the editor only). */
  currentFlow?: () => string | undefined;
  confirm(text: string): Promise<boolean>;
  notify(text: string, type: 'success' | 'warning' | 'error'): void;
  reveal?: ((nodeId: string) => void) | null;
  openFull?: () => void;
  /** Live updates: topic 'runs' (each run that settles) and 'rejected' (calls endpoints rejected). */
  subscribe?: (topic: 'runs' | 'rejected', listener: (data: never) => void) => void;
}

export interface Dashboard {
  refresh(): Promise<void>;
  /** The open flow changed: with "this flow" selected, the list follows it. */
  flowChanged(): void;
  /** Flows were added, renamed or removed: the flow filter lists them anew. */
  flowsChanged(): void;
}

// Status as an icon and a word, never colour alone; the colours are Node-RED's theme variables.
const STATUS: Record<RunStatus, { icon: string; key: string; cls: string }> = {
  ok: { icon: '\u2714', key: 'succeeded', cls: 'ok' },
  failed: { icon: '\u2716', key: 'failed', cls: 'failed' },
  running: { icon: '\u21bb', key: 'running', cls: 'running' },
  unfinished: { icon: '\u26a0', key: 'unfinished', cls: 'unfinished' },
};
// A rejected call: refused at the door, no run started.
const REJECTED = { icon: '\u2298', cls: 'failed' };
/** How many rejected calls the dashboard shows (newest first; the count is of all). */
const REJECTED_SHOWN = 50;
const SINCE: Record<string, number> = {
  '': 0,
  '1h': 3600e3,
  '24h': 86400e3,
  '7d': 7 * 86400e3,
  '30d': 30 * 86400e3,
};
const PAGE = 100;

function duration(ms: number | undefined | null): string {
  if (ms === undefined || ms === null) return '';
  if (ms < 1000) return ms + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
  return Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
}

/** A time, without its date when that is today. */
function when(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** A trigger the trigger filter lists: its name, and its flow to tell same-named triggers apart. */
interface KnownTrigger {
  name: string;
  flowId?: string;
  option: HTMLOptionElement;
}

/** Builds the dashboard in `root`. */
export function createDashboard(root: HTMLElement, env: DashboardEnv): Dashboard {
  const t = env.t;
  const state = {
    runs: [] as RunSummary[],
    next: null as string | null,
    selected: null as string | null,
    shown: null as string | null,
    triggers: new Map<string, KnownTrigger>(),
    loading: 0,
    /** Counts the detail's openings and clearings: an answer for an older one is dropped. */
    opening: 0,
    /** The run the latest opening asked for (shown once its answer arrives). */
    wanted: null as string | null,
    manual: [] as ManualTrigger[],
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let live: ReturnType<typeof setTimeout> | null = null;
  let liveRejected: ReturnType<typeof setTimeout> | null = null;

  const flowSelect = el('select', { class: 'imis-runs-flow', 'aria-label': t('dashboard.flow') });
  const statusSelect = el(
    'select',
    { class: 'imis-runs-status-filter', 'aria-label': t('dashboard.status') },
    [
      option('', t('dashboard.any-status')),
      option('running', t('dashboard.running')),
      option('succeeded', t('dashboard.succeeded')),
      option('failed', t('dashboard.failed')),
      option('unfinished', t('dashboard.unfinished')),
    ],
  );
  const triggerSelect = el('select', { class: 'imis-runs-trigger', 'aria-label': t('dashboard.trigger') }, [
    option('', t('dashboard.any-trigger')),
  ]);
  const sinceSelect = el(
    'select',
    { class: 'imis-runs-since', 'aria-label': t('dashboard.since') },
    Object.keys(SINCE).map((k) => option(k, t('dashboard.since-' + (k || 'any')))),
  );
  const searchMode = el(
    'select',
    { class: 'imis-runs-search-mode', 'aria-label': t('dashboard.search-mode') },
    [
      option('key', t('dashboard.search-key')),
      option('value', t('dashboard.search-value')),
      option('q', t('dashboard.search-text')),
    ],
  );
  const searchInput = el('input', {
    type: 'search',
    class: 'imis-runs-search-input',
    placeholder: t('dashboard.search'),
    'aria-label': t('dashboard.search'),
  });
  const counts = el('div', { class: 'imis-runs-counts', role: 'status' });
  const bulk = el('button', {
    type: 'button',
    class: 'red-ui-button imis-runs-bulk',
    text: t('dashboard.bulk'),
    onclick: bulkRerun,
  });
  const list = el('ul', {
    class: 'imis-runs-list',
    role: 'listbox',
    tabindex: '0',
    'aria-label': t('dashboard.runs'),
    onkeydown: (e) => keys(e as KeyboardEvent),
  });
  const more = el('button', {
    type: 'button',
    class: 'red-ui-button imis-runs-more',
    text: t('dashboard.more'),
    onclick: loadMore,
  });
  const detail = el('div', { class: 'imis-runs-detail', 'aria-live': 'polite' });
  const rejectedSummary = el('summary', { text: t('dashboard.rejected', { n: 0 }) });
  const rejectedList = el('ul', {
    class: 'imis-runs-rejected-list',
    'aria-label': t('dashboard.rejected-list'),
  });
  const rejected = el('details', { class: 'imis-runs-rejected' }, [rejectedSummary, rejectedList]);
  const manualOpen = el('button', {
    type: 'button',
    class: 'red-ui-button imis-runs-manual-open',
    title: t('dashboard.manual-title'),
    text: '\u25b6 ' + t('dashboard.manual'),
    onclick: openManual,
  });
  const manualTrigger = el('select', {
    class: 'imis-runs-manual-trigger',
    'aria-label': t('dashboard.manual-trigger'),
    onchange: fillManualInput,
  });
  const manualInput = el('textarea', {
    class: 'imis-runs-manual-input',
    'aria-label': t('dashboard.manual-input'),
    spellcheck: 'false',
  });
  const manualError = el('div', { class: 'imis-runs-error imis-runs-manual-error', role: 'alert' });
  const manualRun = el('button', {
    type: 'button',
    class: 'red-ui-button primary imis-runs-manual-run',
    text: t('dashboard.manual-run'),
    onclick: runManual,
  });
  const manual = el(
    'div',
    { class: 'imis-runs-manual', role: 'group', 'aria-label': t('dashboard.manual-title') },
    [
      el('label', {}, [t('dashboard.manual-trigger'), manualTrigger]),
      el('label', {}, [t('dashboard.manual-input'), manualInput]),
      manualError,
      el('div', { class: 'imis-runs-manual-buttons' }, [
        el('button', {
          type: 'button',
          class: 'red-ui-button imis-runs-manual-cancel',
          text: t('dashboard.cancel'),
          onclick: closeManual,
        }),
        manualRun,
      ]),
    ],
  );
  manual.style.display = 'none';
  const bar = el('div', { class: 'imis-runs-bar' }, [
    counts,
    manualOpen,
    bulk,
    env.openFull
      ? el('button', {
          type: 'button',
          class: 'red-ui-button imis-runs-full',
          title: t('dashboard.full'),
          text: '\u2922 ' + t('dashboard.full'),
          onclick: env.openFull,
        })
      : null,
  ]);
  // The list column (filters, list, rejected calls) and the open run: one above the other in the
  // sidebar, side by side on a wide page (dashboard.css).
  root.appendChild(
    el('div', { class: 'imis-runs-dash' }, [
      el('div', { class: 'imis-runs-main' }, [
        el('div', { class: 'imis-runs-filters' }, [flowSelect, statusSelect, triggerSelect, sinceSelect]),
        el('div', { class: 'imis-runs-search' }, [searchMode, searchInput]),
        bar,
        manual,
        list,
        more,
        rejected,
      ]),
      detail,
    ]),
  );
  more.style.display = 'none';

  const flowLabels = () => new Map((env.flows() || []).map((f) => [f.id, f.label]));

  function fillFlows(): void {
    const keep = flowSelect.value;
    flowSelect.textContent = '';
    if (env.currentFlow) flowSelect.appendChild(option('.current', t('dashboard.this-flow')));
    flowSelect.appendChild(option('', t('dashboard.all-flows')));
    for (const f of env.flows() || []) flowSelect.appendChild(option(f.id, f.label));
    flowSelect.value = keep || (env.currentFlow ? '.current' : '');
    labelTriggers();
  }

  function filter(): Params {
    const f: Params = {};
    const flow = flowSelect.value === '.current' ? env.currentFlow?.() : flowSelect.value;
    if (flow) f.flow = flow;
    if (statusSelect.value) f.status = statusSelect.value;
    if (triggerSelect.value) f.trigger = triggerSelect.value;
    if (SINCE[sinceSelect.value]) f.since = new Date(Date.now() - SINCE[sinceSelect.value]).toISOString();
    const term = searchInput.value.trim();
    if (term && searchMode.value === 'value') {
      // "name=text": runs whose value `name` is exactly `text`.
      const at = term.indexOf('=');
      if (at > 0) f['value.' + term.slice(0, at).trim()] = term.slice(at + 1).trim();
    } else if (term) f[searchMode.value] = term;
    return f;
  }

  /**
   * The trigger filter's labels: a trigger's name, and, when two triggers share it, the name of
   * each one's flow ("Event check-in (Registrations)").
   */
  function labelTriggers(): void {
    const flows = flowLabels();
    const named = new Map<string, number>();
    for (const k of state.triggers.values()) named.set(k.name, (named.get(k.name) ?? 0) + 1);
    for (const k of state.triggers.values()) {
      const flow = k.flowId ? (flows.get(k.flowId) ?? k.flowId) : undefined;
      k.option.textContent = (named.get(k.name) ?? 0) > 1 && flow ? `${k.name} (${flow})` : k.name;
    }
  }

  function learnTriggers(
    found: { trigger: { id?: string; type: string; name?: string }; flowId?: string }[],
  ): void {
    let added = false;
    for (const r of found) {
      const id = r.trigger.id;
      if (!id || state.triggers.has(id)) continue;
      const known = { name: r.trigger.name || r.trigger.type, flowId: r.flowId, option: option(id, '') };
      state.triggers.set(id, known);
      triggerSelect.appendChild(known.option);
      added = true;
    }
    if (added) labelTriggers();
  }

  function statusOf(status: RunStatus | 'ok' | 'failed' | 'running'): HTMLElement {
    const s = STATUS[status] || STATUS.running;
    return el('span', { class: 'imis-runs-status imis-runs-' + s.cls }, [
      el('span', { 'aria-hidden': 'true', text: s.icon + ' ' }),
      t('dashboard.' + s.key),
    ]);
  }

  /** The nodes holding a running run's messages, by name (or type). */
  const holders = (run: { holding?: NodeRef[] }) =>
    (run.holding || []).map((n) => n.name || n.type).join(', ');

  function item(run: RunSummary): HTMLElement {
    const meta = [duration(run.durationMs), run.rerunOf ? '\u21aa ' + t('dashboard.is-rerun') : '']
      .filter(Boolean)
      .join(' \u00b7 ');
    const waiting = run.status === 'running' && holders(run);
    return el(
      'li',
      {
        class: 'imis-runs-run',
        role: 'option',
        id: 'imis-run-' + run.id,
        'data-id': run.id,
        'aria-selected': String(run.id === state.selected),
        onclick: () => {
          select(run.id);
          void open(run.id);
        },
      },
      [
        statusOf(run.status),
        el('span', {
          class: 'imis-runs-when',
          text: when(run.startedAt) + ' ' + (run.trigger.name || run.trigger.type),
        }),
        run.businessKey
          ? el('span', { class: 'imis-runs-key', title: t('dashboard.key'), text: run.businessKey })
          : null,
        waiting
          ? el('span', { class: 'imis-runs-waiting', text: t('dashboard.waiting-at', { node: waiting }) })
          : null,
        meta ? el('span', { class: 'imis-runs-meta', text: meta }) : null,
      ],
    );
  }

  function render(): void {
    list.textContent = '';
    if (!state.runs.length)
      list.appendChild(
        el('li', { class: 'imis-runs-none', text: t(state.next ? 'dashboard.search-on' : 'none') }),
      );
    for (const r of state.runs) list.appendChild(item(r));
    more.style.display = state.next ? '' : 'none';
    if (state.selected) list.setAttribute('aria-activedescendant', 'imis-run-' + state.selected);
  }

  function showCounts(c: RunCounts): void {
    counts.textContent = '';
    for (const k of ['succeeded', 'failed', 'running', 'unfinished'] as const) {
      const s = STATUS[k === 'succeeded' ? 'ok' : k];
      counts.appendChild(
        el('span', { class: 'imis-runs-count imis-runs-' + s.cls, 'data-status': k }, [
          el('span', { 'aria-hidden': 'true', text: s.icon + ' ' }),
          t('dashboard.count-' + k, { n: String(c[k]) + (c.capped && c[k] ? '+' : '') }),
        ]),
      );
    }
    bulk.disabled = !c.failed;
  }

  /** The rejected calls of the flow and trigger filters, newest first, and how many there were. */
  function refreshRejected(): Promise<void> {
    const f = filter();
    const q: Params = { limit: REJECTED_SHOWN };
    if (f.flow) q.flow = f.flow;
    if (f.trigger) q.trigger = f.trigger;
    return env.request<RefusedCall[]>('GET', 'refused', q).then((answer) => {
      const calls = answer.body;
      const total = Number(answer.total) || calls.length;
      learnTriggers(calls);
      rejectedSummary.textContent = t('dashboard.rejected', { n: total });
      rejected.setAttribute('data-count', String(total));
      rejectedList.textContent = '';
      if (!calls.length)
        rejectedList.appendChild(
          el('li', { class: 'imis-runs-rejected-none', text: t('dashboard.rejected-none') }),
        );
      for (const c of calls) {
        const endpoint = c.trigger.id
          ? c.trigger.name || c.trigger.type
          : t('dashboard.unknown-url.' + c.trigger.type);
        rejectedList.appendChild(
          el('li', { class: 'imis-runs-rejected-call', 'data-status': String(c.status) }, [
            el('span', { class: 'imis-runs-status imis-runs-' + REJECTED.cls }, [
              el('span', { 'aria-hidden': 'true', text: REJECTED.icon + ' ' }),
              String(c.status),
            ]),
            ' ' + when(c.time) + ' ' + endpoint + ' ',
            el('span', { class: 'imis-runs-meta', text: t('dashboard.from', { address: c.address || '?' }) }),
            el('span', { class: 'imis-runs-reason', text: c.reason }),
          ]),
        );
      }
    }, fail);
  }

  function fail(err: unknown): void {
    env.notify(message(err), 'error');
  }

  /** Reloads the first page (as many runs as are shown, so that Load more's pages stay), the counts and the open run. */
  function refresh(): Promise<void> {
    const f = filter();
    const load = ++state.loading;
    f.limit = Math.min(Math.max(PAGE, state.runs.length), 1000);
    return Promise.all([
      env.request<RunSummary[]>('GET', 'runs', f),
      env.request<RunCounts>('GET', 'runs/counts', filter()),
    ])
      .then(([runs, runCounts]) => {
        if (load !== state.loading) return;
        state.runs = runs.body;
        state.next = runs.next;
        learnTriggers(state.runs);
        showCounts(runCounts.body);
        if (!state.runs.length) {
          state.selected = null;
          clearDetail();
        }
        render();
        if (state.wanted) return open(state.wanted);
      }, fail)
      .then(refreshRejected);
  }

  function loadMore(): Promise<void> {
    const f = filter();
    f.after = state.next ?? undefined;
    f.limit = PAGE;
    return env.request<RunSummary[]>('GET', 'runs', f).then((answer) => {
      state.runs = state.runs.concat(answer.body);
      state.next = answer.next;
      learnTriggers(answer.body);
      render();
    }, fail);
  }

  function schedule(delay: number): void {
    clearTimeout(timer);
    timer = setTimeout(() => void refresh(), delay);
  }

  function select(id: string): void {
    state.selected = id;
    for (const li of list.querySelectorAll('.imis-runs-run')) {
      const on = li.getAttribute('data-id') === id;
      li.setAttribute('aria-selected', String(on));
      if (on && li.scrollIntoView) li.scrollIntoView({ block: 'nearest' });
    }
    list.setAttribute('aria-activedescendant', 'imis-run-' + id);
  }

  function keys(e: KeyboardEvent): void {
    const ids = state.runs.map((r) => r.id);
    const at = state.selected ? ids.indexOf(state.selected) : -1;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const to = e.key === 'ArrowDown' ? Math.min(at + 1, ids.length - 1) : Math.max(at - 1, 0);
      if (ids[to]) select(ids[to]);
    } else if (e.key === 'Enter' && state.selected) {
      e.preventDefault();
      void open(state.selected);
    }
  }

  function clearDetail(): void {
    state.opening++;
    state.wanted = null;
    state.shown = null;
    detail.textContent = '';
  }

  function link(id: string, label?: string): HTMLElement {
    return el('a', {
      href: '#',
      class: 'imis-runs-link',
      'data-id': id,
      text: label || id.slice(0, 8),
      onclick: (e) => {
        e.preventDefault();
        select(id);
        void open(id);
      },
    });
  }

  const row = (label: string, value: Node | string) =>
    el('div', {}, [el('b', { text: label + ': ' }), value]);

  /**
   * Shows run `id`; a refresh of the same run keeps the reader's scroll position. An answer that
   * arrives after a later opening, or after the detail was cleared (a filter changed), is dropped.
   */
  function open(id: string): Promise<void> {
    const opening = ++state.opening;
    state.wanted = id;
    return env.request<RunDetail>('GET', 'runs/' + encodeURIComponent(id)).then(
      (answer) => {
        if (opening !== state.opening) return;
        const run = answer.body;
        const top = state.shown === id ? detail.scrollTop : 0;
        state.shown = id;
        const box = el('div', { class: 'imis-runs-run-detail', 'data-id': run.id });
        box.appendChild(
          el('div', {}, [
            statusOf(run.status),
            ' ',
            el('b', { text: run.trigger.name || run.trigger.type }),
            ' ' + when(run.startedAt),
          ]),
        );
        box.appendChild(row(t('dashboard.id'), el('span', { class: 'imis-runs-id', text: run.id })));
        if (run.durationMs !== undefined && run.durationMs !== null)
          box.appendChild(row(t('dashboard.duration'), duration(run.durationMs)));
        if (run.businessKey)
          box.appendChild(
            row(t('dashboard.key'), el('span', { class: 'imis-runs-key', text: run.businessKey })),
          );
        const values = run.values ?? {};
        const names = Object.keys(values);
        if (names.length) {
          const dl = el('dl', { class: 'imis-runs-values', 'aria-label': t('dashboard.values') });
          for (const name of names) {
            dl.appendChild(el('dt', { text: name }));
            dl.appendChild(el('dd', { text: values[name] }));
          }
          box.appendChild(el('div', {}, [el('b', { text: t('dashboard.values') + ':' }), dl]));
        }
        if (run.status === 'running' && holders(run))
          box.appendChild(
            row(t('dashboard.holding'), el('span', { class: 'imis-runs-waiting', text: holders(run) })),
          );
        if (run.error)
          box.appendChild(
            el('div', { class: 'imis-runs-error' }, [
              el('b', { text: t('dashboard.error') + ': ' }),
              run.error,
            ]),
          );
        if (run.rerunOf)
          box.appendChild(
            el('div', { class: 'imis-runs-original' }, [t('dashboard.rerun-of') + ' ', link(run.rerunOf)]),
          );
        if (run.reruns?.length) {
          const chain = el('div', { class: 'imis-runs-reruns' }, [t('dashboard.reruns') + ' ']);
          run.reruns.forEach((r, i) => {
            if (i) chain.appendChild(document.createTextNode(', '));
            chain.appendChild(link(r));
          });
          box.appendChild(chain);
        }
        const steps = el('ol', { class: 'imis-runs-steps' });
        for (const s of run.steps) {
          const outcome = s.outcome === 'failed' ? 'failed' : s.outcome ? 'ok' : 'running';
          const reveal = env.reveal;
          const name = reveal
            ? el('a', {
                href: '#',
                text: s.name || s.type,
                onclick: (e) => {
                  e.preventDefault();
                  reveal(s.id);
                },
              })
            : el('span', { text: s.name || s.type });
          steps.appendChild(
            el('li', {}, [
              statusOf(outcome),
              ' ',
              name,
              s.count && s.count > 1
                ? el('span', {
                    class: 'imis-runs-count-step',
                    text: ' ' + t('dashboard.step-count', { n: s.count.toLocaleString() }),
                  })
                : null,
              s.outcome === 'continued' || s.outcome === 'ended' ? ' ' + t('step.' + s.outcome) : null,
              s.error ? el('div', { class: 'imis-runs-error', text: s.error }) : null,
              s.received !== undefined || s.sent !== undefined
                ? el('details', { class: 'imis-runs-preview' }, [
                    el('summary', { text: t('dashboard.payloads') }),
                    s.received !== undefined
                      ? el('div', {}, [
                          el('b', { text: t('dashboard.received') + ': ' }),
                          el('code', { text: s.received }),
                        ])
                      : null,
                    s.sent !== undefined
                      ? el('div', {}, [
                          el('b', { text: t('dashboard.sent') + ': ' }),
                          el('code', { text: s.sent }),
                        ])
                      : null,
                  ])
                : null,
            ]),
          );
        }
        box.appendChild(steps);
        if (run.stepsOmitted)
          box.appendChild(
            el('div', {
              class: 'imis-runs-meta imis-runs-omitted',
              text: t('dashboard.steps-omitted', { n: run.stepsOmitted.toLocaleString() }),
            }),
          );
        if (run.status === 'failed')
          box.appendChild(
            el('button', {
              type: 'button',
              class: 'red-ui-button imis-runs-rerun',
              text: t('rerun'),
              onclick: () => rerun(run.id),
            }),
          );
        box.appendChild(
          run.inputNotStored
            ? el('div', { class: 'imis-runs-meta', text: t('dashboard.input-not-stored') })
            : el('pre', { class: 'imis-runs-input', text: JSON.stringify(run.input, null, 2) }),
        );
        detail.textContent = '';
        detail.appendChild(box);
        detail.scrollTop = top;
      },
      (err) => {
        if (opening !== state.opening) return;
        if (state.shown === id) clearDetail();
        fail(err);
      },
    );
  }

  /** Opens the Manual trigger panel: the deployed Manual triggers of the selected flow. */
  function openManual(): Promise<void> {
    const flow = filter().flow as string | undefined;
    manualError.textContent = '';
    const labels = flowLabels();
    return env.request<ManualTrigger[]>('GET', 'manual', flow ? { flow } : {}).then((answer) => {
      state.manual = answer.body;
      manualTrigger.textContent = '';
      for (const m of state.manual) {
        const label = m.name || t('dashboard.manual-unnamed');
        const flowLabel = labels.get(m.flowId);
        manualTrigger.appendChild(option(m.id, flow || !flowLabel ? label : label + ' (' + flowLabel + ')'));
      }
      manual.style.display = '';
      manualTrigger.disabled = manualInput.disabled = manualRun.disabled = !state.manual.length;
      if (!state.manual.length) {
        manualInput.value = '';
        manualError.textContent = t('dashboard.manual-none');
        return;
      }
      fillManualInput();
      manualInput.focus();
    }, fail);
  }

  /** The input of the chosen trigger as configured, laid out when it is JSON. */
  function fillManualInput(): void {
    const chosen = state.manual.find((m) => m.id === manualTrigger.value);
    let text = chosen ? chosen.input : '';
    try {
      text = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // shown as configured
    }
    manualInput.value = text;
    manualError.textContent = '';
  }

  function closeManual(): void {
    manual.style.display = 'none';
    manualError.textContent = '';
  }

  /** Starts the chosen trigger with the input edited here; invalid JSON is never sent. */
  function runManual(): Promise<void> {
    let input: unknown;
    try {
      input = JSON.parse(manualInput.value);
    } catch (err) {
      manualError.textContent = t('dashboard.manual-invalid', { message: message(err) });
      manualInput.setAttribute('aria-invalid', 'true');
      manualInput.focus();
      return Promise.resolve();
    }
    manualInput.removeAttribute('aria-invalid');
    manualError.textContent = '';
    manualRun.disabled = true;
    return env
      .request<{ id: string }>('POST', 'manual/' + encodeURIComponent(manualTrigger.value), {
        input: input as object,
      })
      .then(
        (answer) => {
          manualRun.disabled = false;
          closeManual();
          env.notify(t('dashboard.manual-started', { id: answer.body.id }), 'success');
          return showNew(answer.body.id, 50);
        },
        (err) => {
          manualRun.disabled = false;
          manualError.textContent = t('dashboard.manual-failed', { message: message(err) });
        },
      );
  }

  /** Selects and opens a run just started, once the runtime knows it (it starts a moment after its input is kept). */
  function showNew(id: string, tries: number): Promise<void> {
    return env.request('GET', 'runs/' + encodeURIComponent(id)).then(
      () => {
        state.selected = id;
        state.wanted = id;
        return refresh().then(() => select(id));
      },
      (err) => {
        if (tries > 0)
          return new Promise<void>((resolve) => setTimeout(resolve, 100)).then(() => showNew(id, tries - 1));
        fail(err);
      },
    );
  }

  function rerun(id: string): void {
    env.request<{ id: string }>('POST', 'runs/' + encodeURIComponent(id) + '/rerun').then((answer) => {
      env.notify(t('rerun-started', { id: answer.body.id }), 'success');
      schedule(300);
    }, fail);
  }

  function bulkRerun(): void {
    const f = filter();
    f.status = 'failed';
    env
      .request<{ count: number }>('POST', 'runs/rerun', { dryRun: true, ...f })
      .then((answer) => {
        const n = answer.body.count;
        if (!n) {
          env.notify(t('dashboard.bulk-none'), 'warning');
          return;
        }
        return env.confirm(t('dashboard.bulk-confirm', { n })).then((yes) => {
          if (!yes) return;
          return env
            .request<{ started: unknown[]; skipped: unknown[] }>('POST', 'runs/rerun', f)
            .then((done) => {
              env.notify(
                t('dashboard.bulk-started', {
                  n: done.body.started.length,
                  skipped: done.body.skipped.length,
                }),
                'success',
              );
              schedule(300);
            });
        });
      })
      .catch(fail);
  }

  for (const s of [flowSelect, statusSelect, triggerSelect, sinceSelect, searchMode])
    s.addEventListener('change', () => {
      state.selected = null;
      clearDetail();
      void refresh();
    });
  flowSelect.addEventListener('change', closeManual);
  searchInput.addEventListener('input', () => schedule(400));
  searchInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      clearTimeout(timer);
      void refresh();
    }
  });
  if (env.subscribe) {
    env.subscribe('runs', (run: RunSummary) => {
      const flow = filter().flow;
      // Throttled, not debounced: a steady stream of runs must not put the refresh off for ever.
      if ((!flow || run.flowId === flow) && !live)
        live = setTimeout(() => {
          live = null;
          void refresh();
        }, 500);
    });
    env.subscribe('rejected', (calls: RejectedNotice) => {
      const f = filter();
      const ours = f.trigger
        ? calls.triggerIds.includes(f.trigger as string)
        : !f.flow || calls.flowIds.includes(f.flow as string);
      if (ours && !liveRejected)
        liveRejected = setTimeout(() => {
          liveRejected = null;
          void refreshRejected();
        }, 500);
    });
  }

  fillFlows();
  return {
    refresh,
    flowChanged() {
      fillFlows();
      if (flowSelect.value === '.current') {
        state.selected = null;
        clearDetail();
        closeManual();
        void refresh();
      }
    },
    flowsChanged: fillFlows,
  };
}
