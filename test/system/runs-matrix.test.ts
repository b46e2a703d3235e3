import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/postgres.js';
import { prepareUserDir, startRed, waitUntil } from './red-child.js';
import type { RedChild } from './red-child.js';

/**
 * Issue 18, "Runs that tell the truth": the pattern matrix. Each pattern is a flow tab started by a
 * Manual trigger (one case: by a plain HTTP call) in one real Node-RED child process, and read back
 * through the runs admin API only, as the Runs dashboard reads it: exactly one run per input, its
 * final status, its steps in order (one per visit of a node, `count` messages each), and no other
 * run in the tab.
 *
 * Steps are compared as visits: consecutive steps of one node are taken as one, their counts
 * summed, so the test does not depend on where a tracker draws the line between two visits.
 */

interface FlowNode {
  id: string;
  type: string;
  z?: string;
  wires?: string[][];
  [key: string]: unknown;
}

interface Step {
  id: string;
  type: string;
  name?: string;
  outcome?: string;
  error?: string;
  count?: number;
}

interface Run {
  id: string;
  flowId: string;
  status: 'running' | 'ok' | 'failed' | 'unfinished';
  trigger: { id: string; type: string; name?: string };
  entry?: { id: string; type: string };
  steps: Step[];
  businessKey?: string;
  values?: Record<string, unknown>;
  error?: string;
}

/** A list item of GET /imis/runs. */
interface RunSummary {
  id: string;
  status: Run['status'];
  businessKey?: string;
  holding?: { id: string; type: string; name?: string }[];
}

const tabs: FlowNode[][] = [];

/**
 * One flow tab: node ids are `<tab>_<local id>`, wires given by local id. Nodes are listed as
 * `[localId, type, config, wires]`; the tab's id is `<tab>`.
 */
function tab(key: string, nodes: [string, string, Record<string, unknown>, string[][]?][]): void {
  const id = (local: string) => `${key}_${local}`;
  tabs.push([
    { id: key, type: 'tab', label: key },
    ...nodes.map(([local, type, config, wires]) => ({
      id: id(local),
      type,
      z: key,
      name: local,
      // Node-RED takes a node without a position for a configuration node (flows/util.js).
      x: 100,
      y: 100,
      ...config,
      wires: (wires ?? []).map((out) => out.map(id)),
    })),
  ]);
}

const manual = (input: unknown = {}) => ({ input: JSON.stringify(input), retries: 0, retryDelaySec: 30 });
const debug = {
  active: false,
  tosidebar: true,
  console: false,
  tostatus: false,
  complete: 'payload',
  targetType: 'msg',
};
const fn = (func: string, outputs = 1) => ({
  func,
  outputs,
  timeout: 0,
  noerr: 0,
  initialize: '',
  finalize: '',
  libs: [],
});
const change = (...rules: Record<string, unknown>[]) => ({
  rules,
  action: '',
  property: '',
  from: '',
  to: '',
  reg: false,
});
const set = (p: string, to: string, tot = 'str') => ({ t: 'set', p, pt: 'msg', to, tot });
/** A function sending each element of the payload as a message of its own (the run's message id). */
const each = fn('for (const payload of msg.payload) node.send({ payload });\nreturn null;');
const split = {
  splt: '\\n',
  spltType: 'str',
  arraySplt: 1,
  arraySpltType: 'len',
  stream: false,
  addname: '',
};
const joinNode = (mode: string, more: Record<string, unknown> = {}) => ({
  mode,
  build: 'array',
  property: 'payload',
  propertyType: 'msg',
  key: 'topic',
  joiner: '\\n',
  joinerType: 'str',
  accumulate: false,
  timeout: '',
  count: '',
  reduceRight: false,
  reduceExp: '',
  reduceInit: '',
  reduceInitType: '',
  reduceFixup: '',
  ...more,
});
const schema = (required: string[]) => ({
  schema: JSON.stringify({ type: 'object', required }),
  schemaSource: 'config',
  property: 'payload',
  onInvalid: 'error',
  cfgVersion: 1,
});
const delay = (more: Record<string, unknown>) => ({
  pauseType: 'delay',
  timeout: '200',
  timeoutUnits: 'milliseconds',
  rate: '1',
  nbRateUnits: '1',
  rateUnits: 'second',
  randomFirst: '1',
  randomLast: '5',
  randomUnits: 'seconds',
  drop: false,
  allowrate: false,
  outputs: 1,
  ...more,
});

describe('System: runs that tell the truth, pattern by pattern (issue 18)', function () {
  this.timeout(60_000);
  let red: RedChild;
  let port: number;
  let userDir: string;
  const tmp = mkdtempSync(join(tmpdir(), 'imis-matrix-files-'));
  /** Node ids whose errors are the point of their pattern (logged by Node-RED at level error). */
  const expectedErrors = ['[function:throws]', '[function:fails]', '[function:reports]'];

  // ---- the flows: one tab per pattern --------------------------------------------------------

  function buildFlows(): FlowNode[] {
    tabs.length = 0;
    // Sequences.
    tab('splitjoin', [
      ['start', 'imis-manual', manual(), [['split']]],
      ['split', 'split', split, [['double']]],
      ['double', 'change', change(set('payload', 'payload * 2', 'jsonata')), [['join']]],
      ['join', 'join', joinNode('auto'), [['out']]],
      ['out', 'debug', debug],
    ]);
    tab('joincount', [
      ['start', 'imis-manual', manual(), [['each']]],
      ['each', 'function', each, [['join']]],
      ['join', 'join', joinNode('custom', { count: '3' }), [['out']]],
      ['out', 'debug', debug],
    ]);
    tab('reduce', [
      ['start', 'imis-manual', manual(), [['split']]],
      ['split', 'split', split, [['sum']]],
      [
        'sum',
        'join',
        joinNode('reduce', { reduceExp: '$A + payload', reduceInit: '0', reduceInitType: 'num' }),
        [['out']],
      ],
      ['out', 'debug', debug],
    ]);
    tab('batch', [
      ['start', 'imis-manual', manual(), [['each']]],
      ['each', 'function', each, [['batch']]],
      [
        'batch',
        'batch',
        { mode: 'count', count: 2, overlap: 0, interval: 10, allowEmptySequence: false, topics: [] },
        [['out']],
      ],
      ['out', 'debug', debug],
    ]);
    tab('sort', [
      ['start', 'imis-manual', manual(), [['split']]],
      ['split', 'split', split, [['sort']]],
      [
        'sort',
        'sort',
        {
          order: 'ascending',
          as_num: true,
          target: '',
          targetType: 'seq',
          msgKey: 'payload',
          msgKeyType: 'elem',
          seqKey: 'payload',
          seqKeyType: 'msg',
        },
        [['out']],
      ],
      ['out', 'debug', debug],
    ]);
    // Routing and functions.
    tab('nomatch', [
      ['start', 'imis-manual', manual(), [['switch']]],
      [
        'switch',
        'switch',
        {
          property: 'payload.a',
          propertyType: 'msg',
          rules: [{ t: 'eq', v: '2', vt: 'num' }],
          checkall: 'true',
          repair: false,
          outputs: 1,
        },
        [['out']],
      ],
      ['out', 'debug', debug],
    ]);
    tab('fnnull', [
      ['start', 'imis-manual', manual(), [['fn']]],
      ['fn', 'function', fn('return null;'), [['out']]],
      ['out', 'debug', debug],
    ]);
    tab('fnnew', [
      ['start', 'imis-manual', manual(), [['fn']]],
      ['fn', 'function', fn('return { payload: 1 };'), [['out']]],
      ['out', 'debug', debug],
    ]);
    tab('fnouts', [
      ['start', 'imis-manual', manual(), [['fn']]],
      ['fn', 'function', fn('return [msg, { payload: 2 }];', 2), [['first'], ['second']]],
      ['first', 'debug', debug],
      ['second', 'debug', debug],
    ]);
    tab('fnsend2', [
      ['start', 'imis-manual', manual(), [['fn']]],
      ['fn', 'function', fn('node.send(msg);\nnode.send({ payload: 2 });\nreturn null;'), [['out']]],
      ['out', 'debug', debug],
    ]);
    tab('fnasync', [
      ['start', 'imis-manual', manual(), [['fn']]],
      [
        'fn',
        'function',
        fn('setTimeout(() => {\n  node.send(msg);\n  node.done();\n}, 150);\nreturn;'),
        [['out']],
      ],
      ['out', 'debug', debug],
    ]);
    tab('link', [
      ['start', 'imis-manual', manual(), [['linkout']]],
      ['linkout', 'link out', { mode: 'link', links: ['link_linkin'] }],
      ['linkin', 'link in', { links: ['link_linkout'] }, [['mark']]],
      ['mark', 'change', change(set('topic', 'linked')), [['out']]],
      ['out', 'debug', debug],
    ]);
    tab('linkcall', [
      ['start', 'imis-manual', manual(), [['call']]],
      ['call', 'link call', { links: ['linkcall_linkin'], linkType: 'static', timeout: '30' }, [['out']]],
      ['linkin', 'link in', { links: [] }, [['mark']]],
      ['mark', 'change', change(set('topic', 'called')), [['back']]],
      ['back', 'link out', { mode: 'return', links: [] }],
      ['out', 'debug', debug],
    ]);
    // Time.
    tab('delay', [
      ['start', 'imis-manual', manual(), [['delay']]],
      ['delay', 'delay', delay({}), [['out']]],
      ['out', 'debug', debug],
    ]);
    tab('rate', [
      ['start', 'imis-manual', manual(), [['each']]],
      ['each', 'function', each, [['rate']]],
      ['rate', 'delay', delay({ pauseType: 'rate', rate: '5' }), [['out']]],
      ['out', 'debug', debug],
    ]);
    tab('trigger', [
      ['start', 'imis-manual', manual(), [['trigger']]],
      [
        'trigger',
        'trigger',
        {
          op1: '',
          op2: 'second',
          op1type: 'pay',
          op2type: 'str',
          duration: '200',
          extend: false,
          overrideDelay: false,
          units: 'ms',
          reset: '',
          bytopic: 'all',
          topic: 'topic',
          outputs: 1,
        },
        [['count']],
      ],
      ['count', 'function', fn("flow.set('sent', (flow.get('sent') || 0) + 1);\nreturn msg;"), [['out']]],
      ['out', 'debug', debug],
    ]);
    tab('rbe', [
      ['start', 'imis-manual', manual(), [['each']]],
      ['each', 'function', each, [['rbe']]],
      [
        'rbe',
        'rbe',
        {
          func: 'rbe',
          gap: '',
          start: '',
          inout: 'out',
          septopics: true,
          property: 'payload',
          topi: 'topic',
        },
        [['out']],
      ],
      ['out', 'debug', debug],
    ]);
    // Catch, Complete, Status.
    tab('fail', [
      ['start', 'imis-manual', manual(), [['throws']]],
      ['throws', 'function', fn("throw new Error('boom');"), [['never']]],
      ['never', 'debug', debug],
      ['catch', 'catch', { scope: null, uncaught: false }, [['handle']]],
      ['handle', 'change', change(set('payload', 'handled')), [['out']]],
      ['out', 'debug', debug],
    ]);
    tab('complete', [
      ['start', 'imis-manual', manual(), [['work']]],
      ['work', 'change', change(set('topic', 'worked')), [['out']]],
      ['out', 'debug', debug],
      ['complete', 'complete', { scope: ['complete_work'], uncaught: false }, [['after']]],
      ['after', 'change', change(set('topic', 'completed')), [['afterout']]],
      ['afterout', 'debug', debug],
    ]);
    tab('status', [
      ['start', 'imis-manual', manual(), [['fn']]],
      ['fn', 'function', fn("node.status({ text: 'matrix-status-seen' });\nreturn msg;"), [['out']]],
      ['out', 'debug', debug],
      ['status', 'status', { scope: ['status_fn'] }, [['statusout']]],
      ['statusout', 'debug', { ...debug, active: true, tosidebar: false, console: true, complete: 'status' }],
    ]);
    // Core parsers and formatters, one after another.
    tab('parsers', [
      ['start', 'imis-manual', manual(), [['range']]],
      [
        'range',
        'range',
        {
          minin: '0',
          maxin: '10',
          minout: '0',
          maxout: '100',
          action: 'scale',
          round: false,
          property: 'payload.n',
        },
        [['template']],
      ],
      [
        'template',
        'template',
        {
          field: 'payload',
          fieldType: 'msg',
          format: 'yaml',
          syntax: 'mustache',
          template: 'n: {{payload.n}}\nlist: [1, 2]',
          output: 'str',
        },
        [['yaml']],
      ],
      ['yaml', 'yaml', { property: 'payload' }, [['tojson']]],
      ['tojson', 'json', { action: 'str', property: 'payload', pretty: false }, [['fromjson']]],
      ['fromjson', 'json', { action: 'obj', property: 'payload', pretty: false }, [['setxml']]],
      ['setxml', 'change', change(set('payload', '<root><n>1</n></root>')), [['xml']]],
      ['xml', 'xml', { property: 'payload', attr: '', chr: '' }, [['sethtml']]],
      ['sethtml', 'change', change(set('payload', '<ul><li>a</li><li>b</li></ul>')), [['html']]],
      [
        'html',
        'html',
        { property: 'payload', outproperty: 'payload', tag: 'li', ret: 'text', as: 'single', chr: '' },
        [['setcsv']],
      ],
      ['setcsv', 'change', change(set('payload', 'a,b\n1,2')), [['csv']]],
      [
        'csv',
        'csv',
        {
          spec: 'rfc',
          sep: ',',
          hdrin: true,
          hdrout: 'none',
          multi: 'one',
          ret: '\\n',
          temp: '',
          skip: '0',
          strings: true,
          include_empty_strings: '',
          include_null_values: '',
        },
        [['out']],
      ],
      ['out', 'debug', debug],
    ]);
    // The outside world: HTTP to this Node-RED, a process, a file.
    tab('http', [
      ['start', 'imis-manual', manual(), [['request']]],
      [
        'request',
        'http request',
        {
          method: 'POST',
          ret: 'obj',
          paytoqs: 'ignore',
          url: `http://127.0.0.1:${port}/matrix/echo`,
          tls: '',
          persist: false,
          proxy: '',
          insecureHTTPParser: false,
          authType: '',
          senderr: false,
          headers: [],
        },
        [['out']],
      ],
      ['out', 'debug', debug],
    ]);
    tab('echo', [
      ['in', 'http in', { url: '/matrix/echo', method: 'post', upload: false, swaggerDoc: '' }, [['answer']]],
      ['answer', 'change', change(set('payload.echoed', 'true', 'bool')), [['response']]],
      ['response', 'http response', { statusCode: '', headers: {} }],
    ]);
    tab('exec', [
      ['start', 'imis-manual', manual(), [['exec']]],
      [
        'exec',
        'exec',
        {
          command: 'echo hi',
          addpay: '',
          append: '',
          useSpawn: 'false',
          timer: '',
          winHide: false,
          oldrc: false,
        },
        [['out'], [], []],
      ],
      ['out', 'debug', debug],
    ]);
    const file = join(tmp, 'matrix.txt');
    tab('file', [
      ['start', 'imis-manual', manual(), [['write']]],
      [
        'write',
        'file',
        {
          filename: file,
          filenameType: 'str',
          appendNewline: false,
          createDir: true,
          overwriteFile: 'true',
          encoding: 'none',
        },
        [['read']],
      ],
      [
        'read',
        'file in',
        {
          filename: file,
          filenameType: 'str',
          format: 'utf8',
          chunk: false,
          sendError: false,
          encoding: 'none',
          allProps: false,
        },
        [['out']],
      ],
      ['out', 'debug', debug],
    ]);
    // A subflow holding a change node.
    tab('subflow', [
      ['start', 'imis-manual', manual(), [['instance']]],
      ['instance', 'subflow:matrix_subflow', {}, [['out']]],
      ['out', 'debug', debug],
    ]);
    const subflow: FlowNode[] = [
      {
        id: 'matrix_subflow',
        type: 'subflow',
        name: 'matrix subflow',
        info: '',
        in: [{ x: 50, y: 30, wires: [{ id: 'matrix_subflow_change' }] }],
        out: [{ x: 250, y: 30, wires: [{ id: 'matrix_subflow_change', port: 0 }] }],
      },
      {
        id: 'matrix_subflow_change',
        type: 'change',
        z: 'matrix_subflow',
        name: 'inside the subflow',
        x: 150,
        y: 30,
        ...change(set('topic', 'subflowed')),
        wires: [[]],
      },
    ];
    // Our nodes.
    const workflow: FlowNode = {
      id: 'matrix_workflow',
      type: 'imis-workflow',
      code: 'MATRIX_ORDERS',
      description: 'Orders of the runs matrix',
      enabled: true,
      instanceMode: 'record',
      keyType: 'template',
      key: '{{ input.orderId }}',
      states: [
        { code: 'NEW', description: '', initial: true, final: false, timeoutHours: null, onTimeout: '' },
        {
          code: 'SUBMITTED',
          description: '',
          initial: false,
          final: false,
          timeoutHours: null,
          onTimeout: '',
        },
      ],
      transitions: [
        {
          code: 'SUBMIT',
          description: '',
          from: 'NEW',
          to: 'SUBMITTED',
          trigger: 'webhook',
          enabled: true,
          condition: '',
        },
      ],
      cfgVersion: 1,
    };
    tab('statemachine', [
      ['start', 'imis-manual', manual(), [['split']]],
      ['split', 'split', split, [['mark']]],
      ['mark', 'change', change(set('topic', 'order')), [['machine']]],
      [
        'machine',
        'imis-state-machine',
        { workflow: 'matrix_workflow', trigger: 'webhook', noMatch: 'output', cfgVersion: 1 },
        [['out'], ['out'], ['out'], []],
      ],
      ['out', 'debug', debug],
    ]);
    tab('schema', [
      ['start', 'imis-manual', manual(), [['validate']]],
      ['validate', 'imis-schema-validate', schema(['a']), [['out']]],
      ['out', 'debug', debug],
    ]);
    tab('foreign', [
      [
        'in',
        'http in',
        { url: '/matrix/validate', method: 'post', upload: false, swaggerDoc: '' },
        [['pass']],
      ],
      ['pass', 'function', fn('return msg;'), [['validate']]],
      ['validate', 'imis-schema-validate', schema(['a']), [['response']]],
      ['response', 'http response', { statusCode: '', headers: {} }],
    ]);
    // Failures.
    tab('donerr', [
      ['start', 'imis-manual', manual(), [['fails']]],
      // The Function node completes the message itself only when its code has a call spelt exactly
      // `node.done()` (10-function.js, the regex before acorn's walk), hence the comment.
      [
        'fails',
        'function',
        fn("// node.done() is called once, with an error:\nnode.done(new Error('x'));\nreturn;"),
        [['out']],
      ],
      ['out', 'debug', debug],
    ]);
    tab('nodeerr', [
      ['start', 'imis-manual', manual(), [['reports']]],
      ['reports', 'function', fn("node.error('x', msg);\nreturn null;"), [['never']]],
      ['never', 'debug', debug],
      ['catch', 'catch', { scope: ['nodeerr_reports'], uncaught: false }, [['out']]],
      ['out', 'debug', debug],
    ]);
    // Fan-out, fan-in.
    tab('fanout', [
      ['start', 'imis-manual', manual(), [['mark']]],
      ['mark', 'change', change(set('topic', 'fan')), [['left', 'right']]],
      ['left', 'debug', debug],
      ['right', 'debug', debug],
    ]);
    tab('fanin', [
      ['start', 'imis-manual', manual(), [['left', 'right']]],
      ['left', 'change', change(set('topic', 'left')), [['merge']]],
      ['right', 'change', change(set('topic', 'right')), [['merge']]],
      ['merge', 'function', fn('return msg;'), [['out']]],
      ['out', 'debug', debug],
    ]);
    // A join that waits for a third part that never comes.
    tab('waiting', [
      ['start', 'imis-manual', manual(), [['two']]],
      [
        'two',
        'function',
        fn('node.send({ payload: 1 });\nnode.send({ payload: 2 });\nreturn null;'),
        [['join']],
      ],
      ['join', 'join', joinNode('custom', { count: '3' }), [['out']]],
      ['out', 'debug', debug],
    ]);
    // Business keys and values.
    tab('keyed', [
      ['start', 'imis-manual', manual(), [['key']]],
      [
        'key',
        'change',
        change(
          set('imis.businessKey', '"K-" & payload.id', 'jsonata'),
          set('imis.values.orderId', 'payload.id', 'jsonata'),
        ),
        [['out']],
      ],
      ['out', 'debug', debug],
    ]);
    tab('plainkey', [
      ['start', 'imis-manual', manual(), [['key']]],
      ['key', 'change', change(set('imis.businessKey', 'matrix-plain-key')), [['out']]],
      ['out', 'debug', debug],
    ]);
    return [...tabs.flat(), ...subflow, workflow];
  }

  // ---- the admin API -------------------------------------------------------------------------

  const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${red.url}${path}`);
    return { status: res.status, body: (await res.json()) as T };
  };

  /** Starts the Manual trigger of `key` with `input`; the run's id. */
  const start = async (key: string, input: unknown): Promise<string> => {
    const res = await fetch(`${red.url}/imis/manual/${key}_start`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ input }),
    });
    const body = (await res.json()) as { id?: string; error?: string };
    assert.equal(res.status, 200, `the Manual trigger of ${key} started a run: ${JSON.stringify(body)}`);
    assert.ok(body.id);
    return body.id;
  };

  /** `check` true within `timeoutMs` (polled every 25 ms), or an error naming `what` was last seen. */
  const poll = async (check: () => Promise<boolean>, timeoutMs: number, what: string, seen: () => unknown) =>
    waitUntil(check, timeoutMs, what, 25).catch((err: Error) => {
      throw new Error(`${err.message} (last seen: ${JSON.stringify(seen())})`);
    });

  /** The run once it left 'running' (every pattern but one takes well under a second). */
  const finished = async (id: string, timeoutMs = 15_000): Promise<Run> => {
    let run: Run | undefined;
    await poll(
      async () => {
        const res = await get<Run>(`/imis/runs/${id}`);
        run = res.status === 200 ? res.body : undefined;
        return run !== undefined && run.status !== 'running';
      },
      timeoutMs,
      `run ${id} to finish`,
      () => run,
    );
    return run as Run;
  };

  const runsOf = async (key: string): Promise<RunSummary[]> => {
    const res = await get<RunSummary[]>(`/imis/runs?flow=${key}&limit=100`);
    assert.equal(res.status, 200);
    return res.body;
  };

  /** Starts `key` with `input` and answers its run once finished. */
  const runOf = async (key: string, input: unknown = {}): Promise<Run> => finished(await start(key, input));

  /**
   * The run's visits: consecutive steps of one node taken as one, counts summed; names are the
   * node's local id in its tab (its configured name; a node inside a subflow keeps its own name).
   */
  const visits = (run: Run): [string, number][] => {
    const out: [string, number][] = [];
    for (const step of run.steps) {
      const count = step.count ?? 1;
      const last = out[out.length - 1];
      const name = step.name ?? step.type;
      if (last && last[0] === name) last[1] += count;
      else out.push([name, count]);
    }
    return out;
  };

  /** Asserts the run's visits: `[node, count]`, or the node alone where the count is not the point. */
  const assertSteps = (run: Run, expected: (string | [string, number])[]) => {
    const actual = visits(run);
    const names = actual.map(([name]) => name);
    const wanted = expected.map((e) => (typeof e === 'string' ? e : e[0]));
    assert.deepEqual(names, wanted, `steps of run ${run.id} in order (${JSON.stringify(run.steps)})`);
    const counts = expected.map((e, i) => (typeof e === 'string' ? [e, actual[i][1]] : e));
    assert.deepEqual(actual, counts, 'messages counted per step');
  };

  /** The tab has this run and no other. */
  const assertOnlyRun = async (key: string, run: Run) => {
    assert.equal(run.flowId, key, 'the run belongs to its tab');
    const listed = await runsOf(key);
    assert.deepEqual(
      listed.map((r) => r.id),
      [run.id],
      `exactly one run in ${key}: ${JSON.stringify(listed)}`,
    );
  };

  /** The outcome of the step of `name`. */
  const stepOf = (run: Run, name: string) => run.steps.find((s) => s.name === name);

  before(async function () {
    this.timeout(60_000);
    // Other test processes on this machine may take the free port first: a new one then.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      userDir = prepareUserDir({ port, flows: buildFlows(), imis: { runs: { unfinishedAfterSec: 10 } } });
      try {
        red = await startRed(userDir, port);
        break;
      } catch (err) {
        rmSync(userDir, { recursive: true, force: true });
        if (attempt === 3 || !/port in use/.test((err as Error).message)) throw err;
      }
    }
  });
  after(async () => {
    await red?.stop();
    rmSync(userDir, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  });

  it('deploys every pattern without an error', () => {
    assert.deepEqual(red.errors(), []);
    assert.doesNotMatch(red.output(), /\[warn\].*(?:missing types|Waiting for missing)/);
  });

  describe('sequences', () => {
    it('split → change → join (automatic): one ok run, the change visited once with 3 messages', async () => {
      const run = await runOf('splitjoin', [1, 2, 3]);
      assert.equal(run.status, 'ok');
      assertSteps(run, [
        ['split', 1],
        ['double', 3],
        ['join', 3],
        ['out', 1],
      ]);
      await assertOnlyRun('splitjoin', run);
    });

    it('a join after 3 messages (manual mode): one ok run, the join sends one array', async () => {
      const run = await runOf('joincount', ['a', 'b', 'c']);
      assert.equal(run.status, 'ok');
      assertSteps(run, [
        ['each', 1],
        ['join', 3],
        ['out', 1],
      ]);
      await assertOnlyRun('joincount', run);
    });

    it('a join in reduce mode: one ok run, the reduced sum sent once', async () => {
      const run = await runOf('reduce', [1, 2, 3]);
      assert.equal(run.status, 'ok');
      assertSteps(run, [
        ['split', 1],
        ['sum', 3],
        ['out', 1],
      ]);
      await assertOnlyRun('reduce', run);
    });

    it('a batch of 2: one ok run, 4 messages through the batch in two batches', async () => {
      const run = await runOf('batch', [1, 2, 3, 4]);
      assert.equal(run.status, 'ok');
      assertSteps(run, [
        ['each', 1],
        ['batch', 4],
        ['out', 4],
      ]);
      await assertOnlyRun('batch', run);
    });

    it('a sort of the sequence from a split: one ok run, the 3 parts sorted', async () => {
      const run = await runOf('sort', [3, 1, 2]);
      assert.equal(run.status, 'ok');
      assertSteps(run, [
        ['split', 1],
        ['sort', 3],
        ['out', 3],
      ]);
      await assertOnlyRun('sort', run);
    });
  });

  describe('routing and functions', () => {
    it('a switch with no matching rule drops the message: the run ends ok at the switch', async () => {
      const run = await runOf('nomatch', { a: 1 });
      assert.equal(run.status, 'ok');
      assertSteps(run, ['switch']);
      await assertOnlyRun('nomatch', run);
    });

    it('a function returning null ends the run ok at the function', async () => {
      const run = await runOf('fnnull');
      assert.equal(run.status, 'ok');
      assertSteps(run, ['fn']);
      await assertOnlyRun('fnnull', run);
    });

    it('a function returning a new object ({payload: 1}): the new message is still the run', async () => {
      const run = await runOf('fnnew');
      assert.equal(run.status, 'ok');
      assertSteps(run, ['fn', 'out']);
      await assertOnlyRun('fnnew', run);
    });

    it('a function with two outputs: both branches are in the run', async () => {
      const run = await runOf('fnouts');
      assert.equal(run.status, 'ok');
      assertSteps(run, ['fn', ['first', 1], ['second', 1]]);
      await assertOnlyRun('fnouts', run);
    });

    it('a function calling node.send twice: the next node counts 2 messages', async () => {
      const run = await runOf('fnsend2');
      assert.equal(run.status, 'ok');
      assertSteps(run, ['fn', ['out', 2]]);
      await assertOnlyRun('fnsend2', run);
    });

    it('an async function (node.send then node.done in a timer): the run waits for it', async () => {
      const run = await runOf('fnasync');
      assert.equal(run.status, 'ok');
      assertSteps(run, ['fn', 'out']);
      const fnStep = stepOf(run, 'fn') as Step & { startedAt: string; finishedAt?: string };
      assert.ok(fnStep.finishedAt, 'the function step finished');
      assert.ok(
        Date.parse(fnStep.finishedAt) - Date.parse(fnStep.startedAt) >= 100,
        'the function step lasted until node.done() in its timer',
      );
      await assertOnlyRun('fnasync', run);
    });

    it('link out → link in: the run goes on after the link', async () => {
      const run = await runOf('link');
      assert.equal(run.status, 'ok');
      assertSteps(run, ['linkout', 'linkin', 'mark', 'out']);
      await assertOnlyRun('link', run);
    });

    it('link call → link in → change → link out (return): the run comes back to the call', async () => {
      const run = await runOf('linkcall');
      assert.equal(run.status, 'ok');
      assertSteps(run, ['call', 'linkin', 'mark', 'back', 'out']);
      await assertOnlyRun('linkcall', run);
    });

    it('one output wired to two nodes (fan-out): one ok run, each branch once', async () => {
      const run = await runOf('fanout');
      assert.equal(run.status, 'ok');
      assertSteps(run, ['mark', ['left', 1], ['right', 1]]);
      await assertOnlyRun('fanout', run);
    });

    it('two branches converging on one node (fan-in): one ok run, that node counts 2 messages', async () => {
      const run = await runOf('fanin');
      assert.equal(run.status, 'ok');
      assertSteps(run, [
        ['left', 1],
        ['right', 1],
        ['merge', 2],
        ['out', 2],
      ]);
      await assertOnlyRun('fanin', run);
    });
  });

  describe('time', () => {
    it('a delay of 200 ms: the run lasts until the delayed message is delivered', async () => {
      const run = await runOf('delay');
      assert.equal(run.status, 'ok');
      assertSteps(run, ['delay', 'out']);
      const step = stepOf(run, 'delay') as Step & { startedAt: string; finishedAt?: string };
      assert.ok(step.finishedAt && Date.parse(step.finishedAt) - Date.parse(step.startedAt) >= 150);
      await assertOnlyRun('delay', run);
    });

    it('a rate limit (5 msg/s) on 2 messages: one ok run, both delivered', async () => {
      const run = await runOf('rate', ['a', 'b']);
      assert.equal(run.status, 'ok');
      assertSteps(run, [
        ['each', 1],
        ['rate', 2],
        ['out', 2],
      ]);
      await assertOnlyRun('rate', run);
    });

    it('a trigger sending now and again after 200 ms: the run ends with its first message; the second starts no run', async () => {
      // The trigger completes its input before its first send and sends the second from a timer
      // (89-trigger.js): Node-RED says nothing of a message it still means to send (docs/runs.md).
      const run = await runOf('trigger');
      assert.equal(run.status, 'ok');
      assertSteps(run, ['trigger', 'count', 'out']);
      // The second message is made 200 ms later (counted by the function in flow context, read
      // through the admin API): it is a late message of the run and starts no other run.
      await poll(
        async () => JSON.stringify((await get<unknown>('/context/flow/trigger')).body).includes('"msg":"2"'),
        5000,
        "the trigger's second message",
        () => undefined,
      );
      await assertOnlyRun('trigger', run);
    });

    it('a filter (rbe) drops the repeated value: 3 in, 2 out, one ok run', async () => {
      const run = await runOf('rbe', [1, 1, 2]);
      assert.equal(run.status, 'ok');
      assertSteps(run, [
        ['each', 1],
        ['rbe', 3],
        ['out', 2],
      ]);
      await assertOnlyRun('rbe', run);
    });
  });

  describe('catch, complete, status', () => {
    it('a function that throws, caught by a Catch node: the run failed, the catch branch is in it', async () => {
      const run = await runOf('fail');
      assert.equal(run.status, 'failed');
      assertSteps(run, ['throws', 'catch', 'handle', 'out']);
      assert.equal(stepOf(run, 'throws')?.outcome, 'failed');
      assert.match(String(stepOf(run, 'throws')?.error), /boom/);
      assert.match(String(run.error), /boom/);
      await assertOnlyRun('fail', run);
    });

    it('a Complete node watching a change node: its branch is in the run', async () => {
      const run = await runOf('complete');
      assert.equal(run.status, 'ok');
      assertSteps(run, ['work', 'out', 'complete', 'after', 'afterout']);
      await assertOnlyRun('complete', run);
    });

    it("a Status node's messages are not part of the run (they are status reports, not the run's message)", async () => {
      const run = await runOf('status');
      assert.equal(run.status, 'ok');
      assertSteps(run, ['fn', 'out']);
      // The status branch did run (its debug node logs to the console), in no run at all.
      await waitUntil(() => /matrix-status-seen/.test(red.output()), 5000, 'the status branch');
      await assertOnlyRun('status', run);
    });
  });

  describe('core nodes', () => {
    it('range, template, yaml, json, change, xml, html and csv one after another: one step each', async () => {
      const run = await runOf('parsers', { n: 5 });
      assert.equal(run.status, 'ok');
      assertSteps(run, [
        'range',
        'template',
        'yaml',
        'tojson',
        'fromjson',
        'setxml',
        'xml',
        'sethtml',
        'html',
        'setcsv',
        'csv',
        'out',
      ]);
      await assertOnlyRun('parsers', run);
    });

    it('an http request to an http in flow of the same Node-RED: one run; the http in flow is no run', async () => {
      const run = await runOf('http', { hello: 1 });
      assert.equal(run.status, 'ok');
      assertSteps(run, ['request', 'out']);
      await assertOnlyRun('http', run);
      assert.deepEqual(await runsOf('echo'), [], 'no run for the http in flow it called');
    });

    it('exec (echo hi): one ok run, stdout delivered', async () => {
      const run = await runOf('exec');
      assert.equal(run.status, 'ok');
      assertSteps(run, ['exec', 'out']);
      await assertOnlyRun('exec', run);
    });

    it('a file written then read back: one ok run', async () => {
      const run = await runOf('file', 'matrix file');
      assert.equal(run.status, 'ok');
      assertSteps(run, ['write', 'read', 'out']);
      await assertOnlyRun('file', run);
    });

    it('a subflow holding a change node: the change node inside it is a step of the run', async () => {
      const run = await runOf('subflow');
      assert.equal(run.status, 'ok');
      const names = visits(run).map(([name]) => name);
      assert.ok(
        names.includes('inside the subflow'),
        `the change inside the subflow is a step: ${names.join(', ')}`,
      );
      assert.equal(names[names.length - 1], 'out', 'the run goes on after the subflow');
      assert.ok(
        names.indexOf('inside the subflow') < names.indexOf('out'),
        'in order: the subflow, then what follows it',
      );
      await assertOnlyRun('subflow', run);
    });
  });

  describe('nodes of this package', () => {
    it('split → change → state machine: the state machine is a step of the run, and starts no run of its own', async () => {
      const orders = ['A', 'B', 'C'].map((o) => ({ orderId: `${o}-${randomBytes(4).toString('hex')}` }));
      const run = await runOf('statemachine', orders);
      assert.equal(run.status, 'ok');
      const names = visits(run).map(([name]) => name);
      assert.deepEqual(names.slice(0, 3), ['split', 'mark', 'machine']);
      assert.deepEqual(visits(run).slice(0, 3), [
        ['split', 1],
        ['mark', 3],
        ['machine', 3],
      ]);
      assert.equal(stepOf(run, 'machine')?.type, 'imis-state-machine');
      assert.equal(stepOf(run, 'machine')?.outcome, 'ok');
      await assertOnlyRun('statemachine', run);
    });

    it('Manual → JSON Schema Validation → debug: one ok run through the validation', async () => {
      const run = await runOf('schema', { a: 1 });
      assert.equal(run.status, 'ok');
      assertSteps(run, ['validate', 'out']);
      await assertOnlyRun('schema', run);
    });

    it('http in → function → JSON Schema Validation → http response, called by plain HTTP: one run, named after the function that sent it, entering at the validation', async () => {
      const res = await fetch(`${red.url}/matrix/validate`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ a: 1 }),
      });
      assert.equal(res.status, 200);
      let listed: RunSummary[] = [];
      await waitUntil(
        async () => (listed = await runsOf('foreign')).some((r) => r.status !== 'running'),
        10_000,
        'the run of the http call',
        25,
      );
      const run = await finished(listed[0].id);
      assert.equal(run.status, 'ok');
      // A run another node's message starts is named after the node that sent it to ours (README §Runs).
      assert.equal(run.trigger.type, 'function', 'the run is named after the node that sent the message');
      assert.equal(run.trigger.id, 'foreign_pass');
      assert.equal(run.entry?.id, 'foreign_validate');
      const names = visits(run).map(([name]) => name);
      assert.deepEqual(names.slice(names.indexOf('validate')), ['validate', 'response']);
      await assertOnlyRun('foreign', run);
    });
  });

  describe('failures', () => {
    it("a function calling node.done(new Error('x')): the run failed at that step", async () => {
      const run = await runOf('donerr');
      assert.equal(run.status, 'failed');
      assertSteps(run, ['fails']);
      assert.equal(stepOf(run, 'fails')?.outcome, 'failed');
      assert.equal(stepOf(run, 'fails')?.error, 'x');
      assert.equal(run.error, 'x');
      await assertOnlyRun('donerr', run);
    });

    it("a function calling node.error('x', msg) and returning null, with a Catch node: the run failed", async () => {
      const run = await runOf('nodeerr');
      assert.equal(run.status, 'failed');
      assertSteps(run, ['reports', 'catch', 'out']);
      assert.equal(stepOf(run, 'reports')?.outcome, 'failed');
      assert.equal(run.error, 'x');
      await assertOnlyRun('nodeerr', run);
    });

    it('a join waiting for a part that never comes: running, held by the join, then unfinished after unfinishedAfterSec (10 s here, so that pauses of a loaded machine do not end other runs)', async () => {
      const id = await start('waiting', {});
      let item: RunSummary | undefined;
      await poll(
        async () => {
          item = (await runsOf('waiting')).find((r) => r.id === id);
          return item?.status === 'running' && (item.holding ?? []).some((h) => h.id === 'waiting_join');
        },
        10_000,
        'the running run to name the node holding it',
        () => item,
      );
      assert.deepEqual(item?.holding, [{ id: 'waiting_join', type: 'join', name: 'join' }]);
      const run = await finished(id, 30_000);
      assert.equal(run.status, 'unfinished');
      assertSteps(run, ['two', ['join', 2]]);
      await assertOnlyRun('waiting', run);
    });
  });

  describe('business keys', () => {
    it('a change node setting msg.imis.businessKey ("K-" & payload.id) and msg.imis.values.orderId: the run has both, found by key prefix', async () => {
      const orderId = `O-${randomBytes(4).toString('hex')}`;
      const run = await runOf('keyed', { id: orderId });
      assert.equal(run.status, 'ok');
      assert.equal(run.businessKey, `K-${orderId}`);
      assert.deepEqual(run.values, { orderId });
      const found = await get<RunSummary[]>('/imis/runs?key=K-&limit=100');
      assert.equal(found.status, 200);
      assert.ok(
        found.body.some((r) => r.id === run.id),
        `GET /imis/runs?key=K- finds the run: ${JSON.stringify(found.body)}`,
      );
      await assertOnlyRun('keyed', run);
    });

    it('a change node setting msg.imis.businessKey to a plain string: the run has it', async () => {
      const run = await runOf('plainkey');
      assert.equal(run.status, 'ok');
      assert.equal(run.businessKey, 'matrix-plain-key');
      await assertOnlyRun('plainkey', run);
    });
  });

  describe('afterwards', () => {
    it('logged no error but those of the failing patterns', () => {
      const unexpected = red.errors().filter((line) => !expectedErrors.some((id) => line.includes(id)));
      assert.deepEqual(unexpected, []);
    });
  });
});
