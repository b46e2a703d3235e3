/**
 * A picture of a workflow: states as boxes, transitions as arrows, placed by dagre (a layered graph
 * layout library) so that the editor only draws what it is given. Works on definitions that are
 * not valid yet (the dialog draws as one types): arrows to unknown states are left out.
 */
import { lazy } from '../core/lazy.js';
import { timeoutMs } from './definition.js';
import type { TriggerType, WorkflowDefinition } from './definition.js';

/** Loaded when a workflow is first drawn (lazy.ts). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dagre = lazy(() => (require('@dagrejs/dagre') as typeof import('@dagrejs/dagre')).default);

export interface Point {
  x: number;
  y: number;
}

export interface StateBox extends Point {
  code: string;
  description: string;
  width: number;
  height: number;
  initial: boolean;
  final: boolean;
  /** Timeout hours, when the state has one. */
  timeoutHours?: number;
}

export interface TransitionArrow {
  code: string;
  from: string;
  to: string;
  trigger: TriggerType;
  enabled: boolean;
  /** The on-timeout transition of its from-state. */
  timeout: boolean;
  conditional: boolean;
  points: Point[];
  label: Point;
}

export interface WorkflowLayout {
  width: number;
  height: number;
  states: StateBox[];
  transitions: TransitionArrow[];
}

/** Rough width of a label in the editor's 12px font. */
const textWidth = (text: string) => Math.ceil(text.length * 7);

export function layoutWorkflow(def: WorkflowDefinition, direction: 'LR' | 'TB' = 'LR'): WorkflowLayout {
  const { graphlib, layout } = dagre();
  const g = new graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: direction, nodesep: 30, ranksep: 60, edgesep: 15, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  const states = new Map(def.states.filter((s) => s.code).map((s) => [s.code, s]));
  for (const s of states.values()) {
    g.setNode(s.code, { width: Math.max(70, textWidth(s.code) + 24), height: 36 });
  }
  const timeouts = new Set(
    [...states.values()]
      .filter((s) => s.onTimeout && timeoutMs(s) !== undefined)
      .map((s) => `${s.code}>${s.onTimeout}`),
  );
  const arrows = def.transitions.filter((t) => t.code && states.has(t.from) && states.has(t.to));
  for (const t of arrows) {
    g.setEdge(t.from, t.to, { width: textWidth(t.code), height: 14, labelpos: 'c' }, t.code);
  }
  layout(g);
  const graph = g.graph();
  return {
    width: Math.ceil(graph.width ?? 0),
    height: Math.ceil(graph.height ?? 0),
    states: [...states.values()].map((s) => {
      const n = g.node(s.code);
      const box: StateBox = {
        code: s.code,
        description: s.description ?? '',
        x: n.x,
        y: n.y,
        width: n.width,
        height: n.height,
        initial: s.initial === true,
        final: s.final === true,
      };
      if (timeoutMs(s) !== undefined) box.timeoutHours = Number(s.timeoutHours);
      return box;
    }),
    transitions: arrows.map((t) => {
      const e = g.edge({ v: t.from, w: t.to, name: t.code });
      return {
        code: t.code,
        from: t.from,
        to: t.to,
        trigger: t.trigger,
        enabled: t.enabled !== false,
        timeout: timeouts.has(`${t.from}>${t.code}`),
        conditional: Boolean(t.condition),
        points: ((e.points ?? []) as Point[]).map((p) => ({ x: p.x, y: p.y })),
        label: { x: e.x ?? 0, y: e.y ?? 0 },
      };
    }),
  };
}
