// A workflow's picture: a layout (src/workflow/layout.ts, placed by the runtime with dagre) drawn
// as SVG; initial states green with a start dot, final states with a double border, timeout
// transitions dashed orange with a clock. Shown fitted to its box, at actual size (the box
// scrolls), or large in a dialog.
import type { WorkflowDefinition } from '../../workflow/definition.js';
import type { Point, WorkflowLayout } from '../../workflow/layout.js';
import { postJson } from '../shared/settings.js';
import './graph.css';

const SVG = 'http://www.w3.org/2000/svg';

/** A message of the imis-workflows catalog (a plugin's catalog is named by its set id). */
export const tr = (key: string, subs?: Record<string, unknown>) =>
  RED._('@imisflow/node-red-imis/imis-workflows:imis-workflows.' + key, subs as never);

export function triggerName(trigger: string): string {
  const type = RED.nodes.getType('imis-workflow') as unknown as { _: (key: string) => string } | null;
  return type ? type._('imis-workflow.triggers.' + trigger) : trigger;
}

function svg<K extends keyof SVGElementTagNameMap>(
  name: K,
  attrs: Record<string, string | number> = {},
  parent?: Element,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  parent?.appendChild(node);
  return node;
}

/**
 * Where an edge's label goes: beside the edge, not on it. Above a mostly horizontal segment at the
 * label's point, to the right of a mostly vertical one.
 */
function labelPlace(points: Point[], at: Point): { x: number; y: number; anchor: string } {
  let best = { dx: 1, dy: 0, d: Infinity };
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1], points[i]];
    const mid = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
    const d = Math.hypot(mid.x - at.x, mid.y - at.y);
    if (d < best.d) best = { dx: b.x - a.x, dy: b.y - a.y, d };
  }
  return Math.abs(best.dx) >= Math.abs(best.dy)
    ? { x: at.x, y: at.y - 5, anchor: 'middle' }
    : { x: at.x + 6, y: at.y + 4, anchor: 'start' };
}

/** The layout as an SVG element, `scale` 0 to fit its box's width (never above actual size). */
function drawSvg(layout: WorkflowLayout): SVGSVGElement {
  const width = Math.max(layout.width, 60) + 20;
  const height = Math.max(layout.height, 40) + 20;
  const root = svg('svg', { class: 'imis-wf-graph', viewBox: `0 0 ${width} ${height}` });
  root.dataset.width = String(width);
  root.dataset.height = String(height);
  const defs = svg('defs', {}, root);
  for (const [id, colour] of [
    ['imis-wf-arrow', '#777'],
    ['imis-wf-arrow-timeout', '#d9822b'],
  ]) {
    const marker = svg(
      'marker',
      {
        id,
        viewBox: '0 0 10 10',
        refX: 9,
        refY: 5,
        markerWidth: 7,
        markerHeight: 7,
        orient: 'auto-start-reverse',
      },
      defs,
    );
    svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: colour }, marker);
  }
  const g = svg('g', { transform: 'translate(10,10)' }, root);
  for (const t of layout.transitions) {
    const d = t.points.map((p, i) => (i ? 'L' : 'M') + p.x.toFixed(1) + ',' + p.y.toFixed(1)).join(' ');
    const cls =
      'imis-wf-edge' + (t.timeout ? ' imis-wf-timeout' : '') + (t.enabled ? '' : ' imis-wf-disabled');
    const edge = svg('g', { class: cls, 'data-transition': t.code }, g);
    svg(
      'path',
      {
        d,
        fill: 'none',
        stroke: t.timeout ? '#d9822b' : '#777',
        'stroke-width': 1.5,
        'stroke-dasharray': t.timeout ? '5,3' : t.enabled ? '' : '2,3',
        'marker-end': 'url(#' + (t.timeout ? 'imis-wf-arrow-timeout' : 'imis-wf-arrow') + ')',
      },
      edge,
    );
    const place = labelPlace(t.points, t.label);
    const label = svg(
      'text',
      {
        class: 'imis-wf-edge-label',
        x: place.x,
        y: place.y,
        'text-anchor': place.anchor,
        'font-size': 10,
        fill: t.timeout ? '#b8661b' : '#555',
      },
      edge,
    );
    label.textContent = (t.timeout ? '\u23F1 ' : '') + t.code;
    const title = svg('title', {}, edge);
    title.textContent =
      t.code +
      ': ' +
      t.from +
      ' \u2192 ' +
      t.to +
      ' (' +
      (t.timeout ? tr('legend.timeout') + ', ' : '') +
      triggerName(t.trigger) +
      ')';
  }
  for (const s of layout.states) {
    const cls = 'imis-wf-node' + (s.initial ? ' imis-wf-initial' : '') + (s.final ? ' imis-wf-final' : '');
    const node = svg(
      'g',
      {
        class: cls,
        'data-state': s.code,
        transform: `translate(${s.x - s.width / 2},${s.y - s.height / 2})`,
      },
      g,
    );
    svg(
      'rect',
      {
        width: s.width,
        height: s.height,
        rx: 6,
        ry: 6,
        fill: s.final ? '#eee' : '#fff',
        stroke: s.initial ? '#3a8f3a' : '#555',
        'stroke-width': s.initial ? 2.5 : 1.2,
      },
      node,
    );
    if (s.final)
      svg(
        'rect',
        {
          x: 3,
          y: 3,
          width: s.width - 6,
          height: s.height - 6,
          rx: 4,
          ry: 4,
          fill: 'none',
          stroke: '#555',
          'stroke-width': 1,
        },
        node,
      );
    if (s.initial) svg('circle', { cx: 0, cy: s.height / 2, r: 4, fill: '#3a8f3a' }, node);
    const text = svg(
      'text',
      {
        x: s.width / 2,
        y: s.height / 2 + 4,
        'text-anchor': 'middle',
        'font-size': 11,
        'font-weight': 'bold',
        fill: '#333',
      },
      node,
    );
    text.textContent = s.code;
    const title = svg('title', {}, node);
    title.textContent =
      (s.description || s.code) +
      (s.timeoutHours ? ' (' + tr('legend.timeout') + ' ' + s.timeoutHours + ' h)' : '');
  }
  return root;
}

/** Sizes the picture: fitted to its box's width (at most actual size), or at actual size. */
function size(picture: SVGSVGElement, actual: boolean, maxHeight?: number): void {
  const width = Number(picture.dataset.width);
  const height = Number(picture.dataset.height);
  picture.setAttribute('width', actual ? String(width) : '100%');
  picture.style.maxWidth = actual ? 'none' : width + 'px';
  picture.style.maxHeight = actual || !maxHeight ? 'none' : Math.min(maxHeight, height) + 'px';
}

/** Shows the layout large, in a dialog most of the window wide. */
function openLarge(layout: WorkflowLayout, title: string): void {
  const picture = drawSvg(layout);
  size(picture, true);
  const $dialog = $('<div class="imis-wf-graph-large">').append(picture);
  $dialog.dialog({
    modal: true,
    title,
    width: Math.min(window.innerWidth - 40, Number(picture.dataset.width) + 60),
    maxHeight: window.innerHeight - 40,
    close: () => $dialog.dialog('destroy').remove(),
  });
}

/**
 * Draws a layout in $container with its toolbar: Fit / Actual size, and Open large. `title`
 * names the dialog of Open large.
 */
export function drawGraph($container: JQuery, layout: WorkflowLayout, title = ''): void {
  $container.empty();
  const picture = drawSvg(layout);
  let actual = false;
  const $box = $('<div class="imis-wf-graph-scroll">').append(picture);
  const $zoom = $('<button type="button" class="red-ui-button red-ui-button-small imis-wf-graph-zoom">');
  const show = () => {
    size(picture, actual, 420);
    $zoom.text(tr(actual ? 'graph.fit' : 'graph.actual'));
  };
  $zoom.on('click', (e) => {
    e.preventDefault();
    actual = !actual;
    show();
  });
  const $large = $('<button type="button" class="red-ui-button red-ui-button-small imis-wf-graph-open">')
    .append($('<i class="fa fa-expand">'), ' ', $('<span>').text(tr('graph.large')))
    .on('click', (e) => {
      e.preventDefault();
      openLarge(layout, title);
    });
  $container.append($('<div class="imis-wf-graph-tools">').append($zoom, $large), $box);
  show();
}

/** The layout of a definition: top to bottom in a narrow box, left to right in a wide one. */
export function layoutOf(def: Partial<WorkflowDefinition>, width: number): JQuery.jqXHR<WorkflowLayout> {
  return postJson<WorkflowLayout>('imis/workflows/layout', {
    definition: def,
    direction: width < 500 ? 'TB' : 'LR',
  });
}

let previewTimer: ReturnType<typeof setTimeout> | undefined;

/** The dialog of imis-workflow draws the definition being edited. */
export function preview($container: JQuery, def: Partial<WorkflowDefinition>): void {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(() => {
    if (!$container.length || !document.body.contains($container[0])) return; // the dialog closed
    layoutOf(def, $container.width() ?? 0).done((layout) =>
      drawGraph($container, layout, tr('graph.title', { workflow: def.code ?? '' })),
    );
  }, 300);
}
