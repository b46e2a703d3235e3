// The iMIS Runs dashboard, shared by the editor's "iMIS runs" sidebar (nodes/imis-runs.html) and the
// full-page view (GET <admin>/imis/runs-view, served by src/nodes/lib/runs-api.ts). Plain DOM, no
// library: the full page has none. What differs between the two (how to call the admin API, texts,
// flows, confirmation, live updates) comes in as `env`. It defines one global, imisRunsDashboard.
(function () {
    'use strict';

    // Status as an icon and a word, never colour alone; the colours are Node-RED's theme variables.
    var STATUS = {
        ok: { icon: '\u2714', key: 'succeeded', cls: 'ok' },
        failed: { icon: '\u2716', key: 'failed', cls: 'failed' },
        running: { icon: '\u21bb', key: 'running', cls: 'running' },
        unfinished: { icon: '\u26a0', key: 'unfinished', cls: 'unfinished' }
    };
    // A rejected call: refused at the door, no run started.
    var REJECTED = { icon: '\u2298', cls: 'failed' };
    /** How many rejected calls the dashboard shows (newest first; the count is of all). */
    var REJECTED_SHOWN = 50;
    var SINCE = { '': 0, '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3 };
    var PAGE = 100;
    var STYLE = [
        '.imis-runs-dash { display: flex; flex-direction: column; height: 100%; box-sizing: border-box; padding: 6px; gap: 6px; color: var(--red-ui-primary-text-color, #555); }',
        '.imis-runs-dash select, .imis-runs-dash input { margin: 0; width: 100%; max-width: 100%; box-sizing: border-box; }',
        '.imis-runs-filters { display: flex; flex-wrap: wrap; gap: 4px; }',
        '.imis-runs-filters > * { flex: 1 1 45%; min-width: 0; }',
        '.imis-runs-search { display: flex; gap: 4px; }',
        '.imis-runs-search select { flex: 0 0 40%; }',
        '.imis-runs-search input { flex: 1 1 60%; min-width: 0; }',
        '.imis-runs-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; }',
        '.imis-runs-counts { flex: 1 1 100%; display: flex; flex-wrap: wrap; }',
        '.imis-runs-counts span { margin-right: 8px; white-space: nowrap; }',
        '.imis-runs-dash .imis-runs-list { list-style: none; margin: 0; padding: 0; overflow-y: auto; flex: 1 1 40%; min-height: 80px; border: 1px solid var(--red-ui-secondary-border-color, #ddd); }',
        '.imis-runs-list:focus { outline: 2px solid var(--red-ui-form-input-focus-color, #85c1e9); }',
        '.imis-runs-run { display: flex; gap: 6px; padding: 3px 6px; cursor: pointer; border-bottom: 1px solid var(--red-ui-secondary-border-color, #eee); background: var(--red-ui-list-item-background, transparent); color: var(--red-ui-list-item-color, inherit); }',
        '.imis-runs-run:hover { background: var(--red-ui-list-item-background-hover, #f3f3f3); }',
        '.imis-runs-run[aria-selected="true"] { background: var(--red-ui-list-item-background-selected, #e0ebf7); border-left: 3px solid var(--red-ui-list-item-border-selected, #6c9bd2); }',
        '.imis-runs-run .imis-runs-when { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }',
        '.imis-runs-meta { color: var(--red-ui-secondary-text-color, #888); white-space: nowrap; }',
        '.imis-runs-ok { color: var(--red-ui-text-color-success, #2e7d32); }',
        '.imis-runs-failed { color: var(--red-ui-text-color-error, #c62828); }',
        '.imis-runs-running { color: var(--red-ui-text-color-link, #1565c0); }',
        '.imis-runs-unfinished { color: var(--red-ui-text-color-warning, #a65e00); }',
        '.imis-runs-status { white-space: nowrap; }',
        '.imis-runs-detail { overflow-y: auto; flex: 1 1 45%; min-height: 60px; border-top: 1px solid var(--red-ui-secondary-border-color, #ddd); padding-top: 4px; }',
        '.imis-runs-detail pre { max-height: 240px; overflow: auto; white-space: pre-wrap; background: var(--red-ui-secondary-background, #f7f7f7); color: var(--red-ui-primary-text-color, inherit); }',
        '.imis-runs-detail .imis-runs-id { font-family: monospace; }',
        '.imis-runs-error { color: var(--red-ui-text-color-error, #c62828); white-space: pre-wrap; }',
        '.imis-runs-preview code { white-space: pre-wrap; word-break: break-all; font-size: 90%; }',
        '.imis-runs-detail a { color: var(--red-ui-text-color-link, #1565c0); cursor: pointer; }',
        '.imis-runs-rejected > summary { cursor: pointer; }',
        '.imis-runs-rejected ul { list-style: none; margin: 4px 0 0; padding: 0; max-height: 180px; overflow-y: auto; border: 1px solid var(--red-ui-secondary-border-color, #ddd); }',
        '.imis-runs-rejected li { padding: 2px 6px; border-bottom: 1px solid var(--red-ui-secondary-border-color, #eee); color: var(--red-ui-list-item-color, inherit); }',
        '.imis-runs-rejected .imis-runs-reason { display: block; white-space: pre-wrap; word-break: break-word; }',
        '.imis-runs-key { font-family: monospace; }',
        '.imis-runs-waiting { color: var(--red-ui-text-color-link, #1565c0); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }',
        '.imis-runs-manual { display: flex; flex-direction: column; gap: 4px; padding: 4px; border: 1px solid var(--red-ui-secondary-border-color, #ddd); }',
        '.imis-runs-manual textarea { width: 100%; box-sizing: border-box; min-height: 80px; font-family: monospace; resize: vertical; }',
        '.imis-runs-manual-buttons { display: flex; gap: 4px; justify-content: flex-end; }',
        '.imis-runs-values { margin: 2px 0; display: grid; grid-template-columns: max-content 1fr; gap: 0 8px; }',
        '.imis-runs-values dt { font-weight: bold; }',
        '.imis-runs-values dd { margin: 0; word-break: break-word; }',
        '.imis-runs-page { margin: 0; height: 100vh; font-family: sans-serif; font-size: 14px; background: var(--red-ui-primary-background, #fff); color: var(--red-ui-primary-text-color, #555); }',
        '.imis-runs-page .imis-runs-list { flex: 2 1 55%; }'
    ].join('\n');

    function el(tag, attrs, children) {
        var node = document.createElement(tag);
        Object.keys(attrs || {}).forEach(function (name) {
            if (name === 'text') { node.textContent = attrs[name]; } else if (name.slice(0, 2) === 'on') { node.addEventListener(name.slice(2), attrs[name]); } else { node.setAttribute(name, attrs[name]); }
        });
        (children || []).forEach(function (child) { if (child != null) { node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child); } });
        return node;
    }

    function addStyle() {
        if (document.getElementById('imis-runs-style')) { return; }
        document.head.appendChild(el('style', { id: 'imis-runs-style', text: STYLE }));
    }

    function duration(ms) {
        if (ms == null) { return ''; }
        if (ms < 1000) { return ms + ' ms'; }
        if (ms < 60000) { return (ms / 1000).toFixed(1) + ' s'; }
        return Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
    }

    /** A time, without its date when that is today. */
    function when(iso) {
        if (!iso) { return ''; }
        var d = new Date(iso);
        return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
    }

    /**
     * Builds the dashboard in `root`. env: t(key, subs), request(method, path, params) → Promise of
     * { body, next }, flows() → [{ id, label }], currentFlow() → the open flow's id (or undefined),
     * confirm(text) → Promise of a boolean, notify(text, type), reveal(nodeId) (optional),
     * openFull() (optional), subscribe(topic, listener) (optional: topic 'runs', each run that settles;
     * 'rejected', calls the endpoints rejected: { flowIds, triggerIds, unknown }).
     */
    function create(root, env) {
        addStyle();
        var t = env.t;
        var state = { runs: [], next: null, selected: null, shown: null, triggers: {}, loading: 0, manual: [] };
        var timer = null;
        var live = null;
        var liveRejected = null;

        function option(value, label) { return el('option', { value: value, text: label }); }
        var flowSelect = el('select', { 'class': 'imis-runs-flow', 'aria-label': t('dashboard.flow') });
        var statusSelect = el('select', { 'class': 'imis-runs-status-filter', 'aria-label': t('dashboard.status') }, [
            option('', t('dashboard.any-status')), option('running', t('dashboard.running')), option('succeeded', t('dashboard.succeeded')),
            option('failed', t('dashboard.failed')), option('unfinished', t('dashboard.unfinished'))
        ]);
        var triggerSelect = el('select', { 'class': 'imis-runs-trigger', 'aria-label': t('dashboard.trigger') }, [option('', t('dashboard.any-trigger'))]);
        var sinceSelect = el('select', { 'class': 'imis-runs-since', 'aria-label': t('dashboard.since') }, Object.keys(SINCE).map(function (k) {
            return option(k, t('dashboard.since-' + (k || 'any')));
        }));
        var searchMode = el('select', { 'class': 'imis-runs-search-mode', 'aria-label': t('dashboard.search-mode') }, [
            option('key', t('dashboard.search-key')), option('value', t('dashboard.search-value')), option('q', t('dashboard.search-text'))
        ]);
        var searchInput = el('input', { type: 'search', 'class': 'imis-runs-search-input', placeholder: t('dashboard.search'), 'aria-label': t('dashboard.search') });
        var counts = el('div', { 'class': 'imis-runs-counts', role: 'status' });
        var bulk = el('button', { type: 'button', 'class': 'red-ui-button imis-runs-bulk', text: t('dashboard.bulk'), onclick: bulkRerun });
        var list = el('ul', { 'class': 'imis-runs-list', role: 'listbox', tabindex: '0', 'aria-label': t('dashboard.runs'), onkeydown: keys });
        var more = el('button', { type: 'button', 'class': 'red-ui-button imis-runs-more', text: t('dashboard.more'), onclick: loadMore });
        var detail = el('div', { 'class': 'imis-runs-detail', 'aria-live': 'polite' });
        var rejectedSummary = el('summary', { text: t('dashboard.rejected', { n: 0 }) });
        var rejectedList = el('ul', { 'class': 'imis-runs-rejected-list', 'aria-label': t('dashboard.rejected-list') });
        var rejected = el('details', { 'class': 'imis-runs-rejected' }, [rejectedSummary, rejectedList]);
        var manualOpen = el('button', { type: 'button', 'class': 'red-ui-button imis-runs-manual-open', title: t('dashboard.manual-title'), text: '\u25b6 ' + t('dashboard.manual'), onclick: openManual });
        var manualTrigger = el('select', { 'class': 'imis-runs-manual-trigger', 'aria-label': t('dashboard.manual-trigger'), onchange: fillManualInput });
        var manualInput = el('textarea', { 'class': 'imis-runs-manual-input', 'aria-label': t('dashboard.manual-input'), spellcheck: 'false' });
        var manualError = el('div', { 'class': 'imis-runs-error imis-runs-manual-error', role: 'alert' });
        var manualRun = el('button', { type: 'button', 'class': 'red-ui-button primary imis-runs-manual-run', text: t('dashboard.manual-run'), onclick: runManual });
        var manual = el('div', { 'class': 'imis-runs-manual', role: 'group', 'aria-label': t('dashboard.manual-title') }, [
            el('label', {}, [t('dashboard.manual-trigger'), manualTrigger]),
            el('label', {}, [t('dashboard.manual-input'), manualInput]),
            manualError,
            el('div', { 'class': 'imis-runs-manual-buttons' }, [
                el('button', { type: 'button', 'class': 'red-ui-button imis-runs-manual-cancel', text: t('dashboard.cancel'), onclick: closeManual }),
                manualRun
            ])
        ]);
        manual.style.display = 'none';
        var bar = el('div', { 'class': 'imis-runs-bar' }, [counts, manualOpen, bulk,
            env.openFull ? el('button', { type: 'button', 'class': 'red-ui-button imis-runs-full', title: t('dashboard.full'), text: '\u2922 ' + t('dashboard.full'), onclick: env.openFull }) : null]);
        root.appendChild(el('div', { 'class': 'imis-runs-dash' }, [
            el('div', { 'class': 'imis-runs-filters' }, [flowSelect, statusSelect, triggerSelect, sinceSelect]),
            el('div', { 'class': 'imis-runs-search' }, [searchMode, searchInput]),
            bar, manual, list, more, rejected, detail
        ]));
        more.style.display = 'none';

        function fillFlows() {
            var keep = flowSelect.value;
            flowSelect.textContent = '';
            if (env.currentFlow) { flowSelect.appendChild(option('.current', t('dashboard.this-flow'))); }
            flowSelect.appendChild(option('', t('dashboard.all-flows')));
            (env.flows() || []).forEach(function (f) { flowSelect.appendChild(option(f.id, f.label)); });
            flowSelect.value = keep || (env.currentFlow ? '.current' : '');
        }
        fillFlows();

        function filter() {
            var f = {};
            var flow = flowSelect.value === '.current' ? env.currentFlow() : flowSelect.value;
            if (flow) { f.flow = flow; }
            if (statusSelect.value) { f.status = statusSelect.value; }
            if (triggerSelect.value) { f.trigger = triggerSelect.value; }
            if (SINCE[sinceSelect.value]) { f.since = new Date(Date.now() - SINCE[sinceSelect.value]).toISOString(); }
            var term = searchInput.value.trim();
            if (term && searchMode.value === 'value') {
                // "name=text": runs whose value `name` is exactly `text`.
                var at = term.indexOf('=');
                if (at > 0) { f['value.' + term.slice(0, at).trim()] = term.slice(at + 1).trim(); }
            } else if (term) { f[searchMode.value] = term; }
            return f;
        }

        function learnTriggers(runs) {
            runs.forEach(function (r) {
                if (state.triggers[r.trigger.id]) { return; }
                state.triggers[r.trigger.id] = true;
                triggerSelect.appendChild(option(r.trigger.id, r.trigger.name || r.trigger.type));
            });
        }

        function statusOf(status) {
            var s = STATUS[status] || STATUS.running;
            return el('span', { 'class': 'imis-runs-status imis-runs-' + s.cls }, [el('span', { 'aria-hidden': 'true', text: s.icon + ' ' }), t('dashboard.' + s.key)]);
        }

        /** The nodes holding a running run's messages, by name (or type). */
        function holders(run) {
            return (run.holding || []).map(function (n) { return n.name || n.type; }).join(', ');
        }

        function item(run) {
            var meta = [duration(run.durationMs), run.rerunOf ? '\u21aa ' + t('dashboard.is-rerun') : ''].filter(Boolean).join(' \u00b7 ');
            var waiting = run.status === 'running' && holders(run);
            return el('li', {
                'class': 'imis-runs-run', role: 'option', id: 'imis-run-' + run.id, 'data-id': run.id,
                'aria-selected': String(run.id === state.selected),
                onclick: function () { select(run.id); open(run.id); }
            }, [statusOf(run.status), el('span', { 'class': 'imis-runs-when', text: when(run.startedAt) + ' ' + (run.trigger.name || run.trigger.type) }),
                run.businessKey ? el('span', { 'class': 'imis-runs-key', title: t('dashboard.key'), text: run.businessKey }) : null,
                waiting ? el('span', { 'class': 'imis-runs-waiting', text: t('dashboard.waiting-at', { node: waiting }) }) : null,
                meta ? el('span', { 'class': 'imis-runs-meta', text: meta }) : null]);
        }

        function render() {
            list.textContent = '';
            if (!state.runs.length) { list.appendChild(el('li', { 'class': 'imis-runs-none', text: t(state.next ? 'dashboard.search-on' : 'none') })); }
            state.runs.forEach(function (r) { list.appendChild(item(r)); });
            more.style.display = state.next ? '' : 'none';
            if (state.selected) { list.setAttribute('aria-activedescendant', 'imis-run-' + state.selected); }
        }

        function showCounts(c) {
            counts.textContent = '';
            ['succeeded', 'failed', 'running', 'unfinished'].forEach(function (k) {
                var s = STATUS[k === 'succeeded' ? 'ok' : k];
                counts.appendChild(el('span', { 'class': 'imis-runs-count imis-runs-' + s.cls, 'data-status': k }, [
                    el('span', { 'aria-hidden': 'true', text: s.icon + ' ' }), t('dashboard.count-' + k, { n: c[k] + (c.capped && c[k] ? '+' : '') })]));
            });
            bulk.disabled = !c.failed;
        }

        /** The rejected calls of the flow and trigger filters, newest first, and how many there were. */
        function refreshRejected() {
            var f = filter();
            var q = { limit: REJECTED_SHOWN };
            if (f.flow) { q.flow = f.flow; }
            if (f.trigger) { q.trigger = f.trigger; }
            return env.request('GET', 'refused', q).then(function (answer) {
                var calls = answer.body;
                var total = Number(answer.total) || calls.length;
                learnTriggers(calls.filter(function (c) { return c.trigger.id; }));
                rejectedSummary.textContent = t('dashboard.rejected', { n: total });
                rejected.setAttribute('data-count', String(total));
                rejectedList.textContent = '';
                if (!calls.length) { rejectedList.appendChild(el('li', { 'class': 'imis-runs-rejected-none', text: t('dashboard.rejected-none') })); }
                calls.forEach(function (c) {
                    var endpoint = c.trigger.id ? c.trigger.name || c.trigger.type : t('dashboard.unknown-url.' + c.trigger.type);
                    rejectedList.appendChild(el('li', { 'class': 'imis-runs-rejected-call', 'data-status': String(c.status) }, [
                        el('span', { 'class': 'imis-runs-status imis-runs-' + REJECTED.cls }, [el('span', { 'aria-hidden': 'true', text: REJECTED.icon + ' ' }), String(c.status)]),
                        ' ' + when(c.time) + ' ' + endpoint + ' ',
                        el('span', { 'class': 'imis-runs-meta', text: t('dashboard.from', { address: c.address || '?' }) }),
                        el('span', { 'class': 'imis-runs-reason', text: c.reason })
                    ]));
                });
            }, fail);
        }

        function fail(err) { env.notify(err && err.message ? err.message : String(err), 'error'); }

        /** Reloads the first page (as many runs as are shown, so that Load more's pages stay), the counts and the open run. */
        function refresh() {
            var f = filter();
            var load = ++state.loading;
            f.limit = Math.min(Math.max(PAGE, state.runs.length), 1000);
            return Promise.all([env.request('GET', 'runs', f), env.request('GET', 'runs/counts', filter())]).then(function (answers) {
                if (load !== state.loading) { return; }
                state.runs = answers[0].body;
                state.next = answers[0].next;
                learnTriggers(state.runs);
                showCounts(answers[1].body);
                if (!state.runs.length) { state.selected = null; clearDetail(); }
                render();
                if (state.shown) { return open(state.shown); }
            }, fail).then(refreshRejected);
        }

        function loadMore() {
            var f = filter();
            f.after = state.next;
            f.limit = PAGE;
            return env.request('GET', 'runs', f).then(function (answer) {
                state.runs = state.runs.concat(answer.body);
                state.next = answer.next;
                learnTriggers(answer.body);
                render();
            }, fail);
        }

        function schedule(delay) {
            clearTimeout(timer);
            timer = setTimeout(refresh, delay);
        }

        function select(id) {
            state.selected = id;
            Array.prototype.forEach.call(list.querySelectorAll('.imis-runs-run'), function (li) {
                var on = li.getAttribute('data-id') === id;
                li.setAttribute('aria-selected', String(on));
                if (on && li.scrollIntoView) { li.scrollIntoView({ block: 'nearest' }); }
            });
            list.setAttribute('aria-activedescendant', 'imis-run-' + id);
        }

        function keys(e) {
            var ids = state.runs.map(function (r) { return r.id; });
            var at = ids.indexOf(state.selected);
            if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
                e.preventDefault();
                var to = e.key === 'ArrowDown' ? Math.min(at + 1, ids.length - 1) : Math.max(at - 1, 0);
                if (ids[to]) { select(ids[to]); }
            } else if (e.key === 'Enter' && state.selected) {
                e.preventDefault();
                open(state.selected);
            }
        }

        function clearDetail() { state.shown = null; detail.textContent = ''; }

        function link(id, label) {
            return el('a', { href: '#', 'class': 'imis-runs-link', 'data-id': id, text: label || id.slice(0, 8),
                onclick: function (e) { e.preventDefault(); select(id); open(id); } });
        }

        function row(label, value) { return el('div', {}, [el('b', { text: label + ': ' }), value]); }

        /** Shows run `id`; a refresh of the same run keeps the reader's scroll position. */
        function open(id) {
            return env.request('GET', 'runs/' + encodeURIComponent(id)).then(function (answer) {
                var run = answer.body;
                var top = state.shown === id ? detail.scrollTop : 0;
                state.shown = id;
                var box = el('div', { 'class': 'imis-runs-run-detail', 'data-id': run.id });
                box.appendChild(el('div', {}, [statusOf(run.status), ' ', el('b', { text: run.trigger.name || run.trigger.type }), ' ' + when(run.startedAt)]));
                box.appendChild(row(t('dashboard.id'), el('span', { 'class': 'imis-runs-id', text: run.id })));
                if (run.durationMs != null) { box.appendChild(row(t('dashboard.duration'), duration(run.durationMs))); }
                if (run.businessKey) { box.appendChild(row(t('dashboard.key'), el('span', { 'class': 'imis-runs-key', text: run.businessKey }))); }
                var names = Object.keys(run.values || {});
                if (names.length) {
                    var values = el('dl', { 'class': 'imis-runs-values', 'aria-label': t('dashboard.values') });
                    names.forEach(function (name) {
                        values.appendChild(el('dt', { text: name }));
                        values.appendChild(el('dd', { text: run.values[name] }));
                    });
                    box.appendChild(el('div', {}, [el('b', { text: t('dashboard.values') + ':' }), values]));
                }
                if (run.status === 'running' && holders(run)) { box.appendChild(row(t('dashboard.holding'), el('span', { 'class': 'imis-runs-waiting', text: holders(run) }))); }
                if (run.error) { box.appendChild(el('div', { 'class': 'imis-runs-error' }, [el('b', { text: t('dashboard.error') + ': ' }), run.error])); }
                if (run.rerunOf) { box.appendChild(el('div', { 'class': 'imis-runs-original' }, [t('dashboard.rerun-of') + ' ', link(run.rerunOf)])); }
                if (run.reruns && run.reruns.length) {
                    var chain = el('div', { 'class': 'imis-runs-reruns' }, [t('dashboard.reruns') + ' ']);
                    run.reruns.forEach(function (r, i) { if (i) { chain.appendChild(document.createTextNode(', ')); } chain.appendChild(link(r)); });
                    box.appendChild(chain);
                }
                var steps = el('ol', { 'class': 'imis-runs-steps' });
                run.steps.forEach(function (s) {
                    var outcome = s.outcome === 'failed' ? 'failed' : s.outcome ? 'ok' : 'running';
                    var name = env.reveal
                        ? el('a', { href: '#', text: s.name || s.type, onclick: function (e) { e.preventDefault(); env.reveal(s.id); } })
                        : el('span', { text: s.name || s.type });
                    steps.appendChild(el('li', {}, [statusOf(outcome), ' ', name,
                        s.count > 1 ? el('span', { 'class': 'imis-runs-count-step', text: ' ' + t('dashboard.step-count', { n: s.count.toLocaleString() }) }) : null,
                        s.outcome === 'continued' || s.outcome === 'ended' ? ' ' + t('step.' + s.outcome) : null,
                        s.error ? el('div', { 'class': 'imis-runs-error', text: s.error }) : null,
                        s.received != null || s.sent != null ? el('details', { 'class': 'imis-runs-preview' }, [
                            el('summary', { text: t('dashboard.payloads') }),
                            s.received != null ? el('div', {}, [el('b', { text: t('dashboard.received') + ': ' }), el('code', { text: s.received })]) : null,
                            s.sent != null ? el('div', {}, [el('b', { text: t('dashboard.sent') + ': ' }), el('code', { text: s.sent })]) : null
                        ]) : null]));
                });
                box.appendChild(steps);
                if (run.stepsOmitted) { box.appendChild(el('div', { 'class': 'imis-runs-meta imis-runs-omitted', text: t('dashboard.steps-omitted', { n: run.stepsOmitted.toLocaleString() }) })); }
                if (run.status === 'failed') {
                    box.appendChild(el('button', { type: 'button', 'class': 'red-ui-button imis-runs-rerun', text: t('rerun'), onclick: function () { rerun(run.id); } }));
                }
                box.appendChild(run.inputNotStored
                    ? el('div', { 'class': 'imis-runs-meta', text: t('dashboard.input-not-stored') })
                    : el('pre', { 'class': 'imis-runs-input', text: JSON.stringify(run.input, null, 2) }));
                detail.textContent = '';
                detail.appendChild(box);
                detail.scrollTop = top;
            }, function (err) { if (state.shown === id) { clearDetail(); } fail(err); });
        }

        /** The flow the filter selects (none: all flows). */
        function selectedFlow() { return filter().flow; }

        /** Opens the Manual trigger panel: the deployed Manual triggers of the selected flow. */
        function openManual() {
            var flow = selectedFlow();
            manualError.textContent = '';
            var labels = {};
            (env.flows() || []).forEach(function (f) { labels[f.id] = f.label; });
            return env.request('GET', 'manual', flow ? { flow: flow } : {}).then(function (answer) {
                state.manual = answer.body;
                manualTrigger.textContent = '';
                state.manual.forEach(function (m) {
                    var label = m.name || t('dashboard.manual-unnamed');
                    manualTrigger.appendChild(option(m.id, flow || !labels[m.flowId] ? label : label + ' (' + labels[m.flowId] + ')'));
                });
                manual.style.display = '';
                manualTrigger.disabled = manualInput.disabled = manualRun.disabled = !state.manual.length;
                if (!state.manual.length) { manualInput.value = ''; manualError.textContent = t('dashboard.manual-none'); return; }
                fillManualInput();
                manualInput.focus();
            }, fail);
        }

        /** The input of the chosen trigger as configured, laid out when it is JSON. */
        function fillManualInput() {
            var chosen = (state.manual || []).filter(function (m) { return m.id === manualTrigger.value; })[0];
            var text = chosen ? chosen.input : '';
            try { text = JSON.stringify(JSON.parse(text), null, 2); } catch (ignore) { /* shown as configured */ } // eslint-disable-line no-unused-vars
            manualInput.value = text;
            manualError.textContent = '';
        }

        function closeManual() { manual.style.display = 'none'; manualError.textContent = ''; }

        /** Starts the chosen trigger with the input edited here; invalid JSON is never sent. */
        function runManual() {
            var input;
            try { input = JSON.parse(manualInput.value); } catch (err) {
                manualError.textContent = t('dashboard.manual-invalid', { message: err.message });
                manualInput.setAttribute('aria-invalid', 'true');
                manualInput.focus();
                return Promise.resolve();
            }
            manualInput.removeAttribute('aria-invalid');
            manualError.textContent = '';
            manualRun.disabled = true;
            return env.request('POST', 'manual/' + encodeURIComponent(manualTrigger.value), { input: input }).then(function (answer) {
                manualRun.disabled = false;
                closeManual();
                env.notify(t('dashboard.manual-started', { id: answer.body.id }), 'success');
                return showNew(answer.body.id, 50);
            }, function (err) {
                manualRun.disabled = false;
                manualError.textContent = t('dashboard.manual-failed', { message: err && err.message ? err.message : String(err) });
            });
        }

        /** Selects and opens a run just started, once the runtime knows it (it starts a moment after its input is kept). */
        function showNew(id, tries) {
            return env.request('GET', 'runs/' + encodeURIComponent(id)).then(function () {
                state.selected = id;
                state.shown = id;
                return refresh().then(function () { select(id); });
            }, function (err) {
                if (tries > 0) { return new Promise(function (resolve) { setTimeout(resolve, 100); }).then(function () { return showNew(id, tries - 1); }); }
                fail(err);
            });
        }

        function rerun(id) {
            env.request('POST', 'runs/' + encodeURIComponent(id) + '/rerun').then(function (answer) {
                env.notify(t('rerun-started', { id: answer.body.id }), 'success');
                schedule(300);
            }, fail);
        }

        function bulkRerun() {
            var f = filter();
            f.status = 'failed';
            var dry = Object.assign({ dryRun: true }, f);
            env.request('POST', 'runs/rerun', dry).then(function (answer) {
                var n = answer.body.count;
                if (!n) { env.notify(t('dashboard.bulk-none'), 'warning'); return; }
                return env.confirm(t('dashboard.bulk-confirm', { n: n })).then(function (yes) {
                    if (!yes) { return; }
                    return env.request('POST', 'runs/rerun', f).then(function (done) {
                        env.notify(t('dashboard.bulk-started', { n: done.body.started.length, skipped: done.body.skipped.length }), 'success');
                        schedule(300);
                    });
                });
            }).catch(fail);
        }

        [flowSelect, statusSelect, triggerSelect, sinceSelect, searchMode].forEach(function (s) {
            s.addEventListener('change', function () { state.selected = null; clearDetail(); refresh(); });
        });
        flowSelect.addEventListener('change', closeManual);
        searchInput.addEventListener('input', function () { schedule(400); });
        searchInput.addEventListener('keydown', function (e) { if (e.key === 'Enter') { e.preventDefault(); clearTimeout(timer); refresh(); } });
        if (env.subscribe) {
            env.subscribe('runs', function (run) {
                var flow = filter().flow;
                // Throttled, not debounced: a steady stream of runs must not put the refresh off for ever.
                if ((!flow || run.flowId === flow) && !live) { live = setTimeout(function () { live = null; refresh(); }, 500); }
            });
            env.subscribe('rejected', function (calls) {
                var f = filter();
                var ours = f.trigger ? calls.triggerIds.indexOf(f.trigger) >= 0 : !f.flow || calls.flowIds.indexOf(f.flow) >= 0;
                if (ours && !liveRejected) { liveRejected = setTimeout(function () { liveRejected = null; refreshRejected(); }, 500); }
            });
        }

        return {
            refresh: refresh,
            /** The open flow changed: with "this flow" selected, the list follows it. */
            flowChanged: function () {
                fillFlows();
                if (flowSelect.value === '.current') { state.selected = null; clearDetail(); closeManual(); refresh(); }
            },
            /** Flows were added, renamed or removed: the flow filter lists them anew. */
            flowsChanged: fillFlows
        };
    }

    /** The full-page view: texts from the page, the API beside it, the editor (if it opened the page) for flows and credentials. */
    function page(root, texts) {
        var opener = null;
        try { opener = window.opener && window.opener.RED ? window.opener.RED : null; } catch (ignore) { opener = null; } // eslint-disable-line no-unused-vars
        document.title = texts.name;
        function t(key, subs) {
            var value = key.split('.').reduce(function (o, k) { return o && o[k]; }, texts);
            return typeof value === 'string' ? value.replace(/__(\w+)__/g, function (m, n) { return subs && subs[n] != null ? subs[n] : ''; }) : key;
        }
        function request(method, path, params) {
            var headers = { Accept: 'application/json' };
            var tokens = opener ? opener.settings.get('auth-tokens') : null;
            if (tokens && tokens.access_token) { headers.Authorization = 'Bearer ' + tokens.access_token; }
            var url = path;
            var init = { method: method, headers: headers, credentials: 'same-origin' };
            if (method === 'GET' && params) { url += '?' + new URLSearchParams(params).toString(); } else if (params) {
                headers['Content-Type'] = 'application/json';
                init.body = JSON.stringify(params);
            }
            return fetch(url, init).then(function (res) {
                return res.json().then(function (body) {
                    if (!res.ok) { throw new Error(body && body.error ? body.error : res.statusText); }
                    return { body: body, next: res.headers.get('X-Next-Page'), total: res.headers.get('X-Total-Count') };
                });
            });
        }
        var flows = function () {
            if (!opener) { return []; }
            var list = [];
            opener.nodes.eachWorkspace(function (ws) { list.push({ id: ws.id, label: ws.label || ws.id }); });
            return list;
        };
        var listeners = {};
        var dash = create(root, {
            t: t,
            request: request,
            flows: flows,
            confirm: function (text) { return Promise.resolve(window.confirm(text)); },
            notify: function (text, type) { if (type === 'error' || type === 'warning') { window.alert(text); } },
            reveal: opener ? function (id) { opener.view.reveal(id); } : null,
            subscribe: function (topic, listener) { listeners['imis/' + topic] = listener; }
        });
        if (opener) { adoptTheme(window.opener); }
        dash.refresh();
        liveUpdates(opener, listeners, dash.refresh);
        return dash;
    }

    /**
     * Live updates for the full page from the runtime's comms WebSocket (<admin>/comms, beside the
     * page's <admin>/imis/runs-view), as the editor gets them: with the editor's access token when
     * the editor opened the page and Node-RED has adminAuth. While it is not connected (no access, a
     * restart) the page polls every 5 s, and tries to connect again.
     */
    function liveUpdates(opener, listeners, poll) {
        var polling = null;
        var denied = false;
        function startPolling() { if (!polling) { polling = setInterval(poll, 5000); } }
        function connect() {
            var url = new URL('../comms', window.location.href);
            url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
            var ws;
            try { ws = new WebSocket(url.href); } catch (ignore) { startPolling(); return; } // eslint-disable-line no-unused-vars
            var subscribe = function () {
                Object.keys(listeners).forEach(function (topic) { ws.send(JSON.stringify({ subscribe: topic })); });
                clearInterval(polling);
                polling = null;
                document.body.setAttribute('data-live', 'comms');
                poll(); // what happened before the connection
            };
            ws.onopen = function () {
                var tokens = opener ? opener.settings.get('auth-tokens') : null;
                if (tokens && tokens.access_token) { ws.send(JSON.stringify({ auth: tokens.access_token })); } else { subscribe(); }
            };
            ws.onmessage = function (event) {
                var data;
                try { data = JSON.parse(event.data); } catch (ignore) { return; } // eslint-disable-line no-unused-vars
                if (data && data.auth === 'ok') { subscribe(); return; }
                if (data && data.auth === 'fail') { denied = true; return; }
                (Array.isArray(data) ? data : [data]).forEach(function (m) {
                    if (m && listeners[m.topic]) { listeners[m.topic](m.data); }
                });
            };
            ws.onclose = function () {
                document.body.setAttribute('data-live', 'polling');
                startPolling();
                if (!denied) { setTimeout(connect, 5000); }
            };
        }
        startPolling();
        if (window.WebSocket && window.URL) { connect(); }
    }

    /** The editor's theme colours (Node-RED's --red-ui-* variables), which this page does not load. */
    function adoptTheme(editor) {
        var theme;
        try { theme = editor.getComputedStyle(editor.document.documentElement); } catch (ignore) { return; } // eslint-disable-line no-unused-vars
        var names = STYLE.match(/--red-ui-[\w-]+/g) || [];
        names.forEach(function (name) {
            var value = theme.getPropertyValue(name);
            if (value) { document.documentElement.style.setProperty(name, value.trim()); }
        });
    }

    window.imisRunsDashboard = { create: create, page: page };
})();
