// Export Data to URL, end to end: the iMIS emulator (in this process) serves the 100,000 × 10 IQA
// query; a Node-RED child runs  http in POST /go → Fetch IQA Data → Export Data to URL (CSV) → http
// response, so that one POST times a whole run; then the public URL is read back and checked.
// Reference, same run, same rows: fetchIqa (the library behind the Fetch IQA node) from the same
// emulator, and papaparse `unparse` alone on those rows.
import { randomBytes } from 'node:crypto';
import { unparse } from 'papaparse';
import { startEmulator } from '../src/emulator/server.js';
import type { Emulator } from '../src/emulator/server.js';
import { ROWS_COUNT, ROWS_QUERY } from '../src/emulator/iqa-seed.js';
import { ImisClient } from '../src/imis/client.js';
import { fetchIqa } from '../src/imis/iqa.js';
import { toCsv } from '../src/core/export.js';
import { NODE_RED_PKG, startNodeRed } from '../test/editor/red-process.js';
import type { RedProcess } from '../test/editor/red-process.js';
import { fmt, heading, mean, memoryOf, pollRss, redPid, resetPeak, verdict } from './common.js';
import type { SectionResult } from './common.js';

const RUNS = Math.max(1, Math.floor(Number(process.env.BENCH_EXPORT_RUNS) || 3));
const PAGE_SIZE = 500;
const TARGET_RATIO = 0.8;
const TARGET_PEAK_MB = 300;
const USER = { username: 'MANAGER', password: 'manager' };
/** One Export node per round: the node skips rewriting data identical to what it already serves. */
const EXPORT_IDS = Array.from({ length: RUNS }, (_v, i) => `export-${i + 1}`);

function flows(baseUrl: string): unknown[] {
  const z = 'bench-tab';
  const fn = (id: string, name: string, func: string, wires: string[][], y: number) => ({
    id,
    type: 'function',
    z,
    name,
    func,
    outputs: wires.length,
    timeout: 0,
    noerr: 0,
    initialize: '',
    finalize: '',
    libs: [],
    x: 300,
    y,
    wires,
  });
  return [
    { id: z, type: 'tab', label: 'Benchmark: export' },
    {
      id: 'srv',
      type: 'imis-server',
      name: 'emulator',
      baseUrl,
      timeZone: '',
      maxInFlight: 8,
      timeoutSec: 30,
      retries: 3,
      cfgVersion: 1,
    },
    {
      id: 'go',
      type: 'http in',
      z,
      name: 'go',
      url: '/go',
      method: 'post',
      upload: false,
      swaggerDoc: '',
      x: 100,
      y: 60,
      wires: [['iqa']],
    },
    {
      id: 'iqa',
      type: 'imis-iqa',
      z,
      name: 'rows',
      server: 'srv',
      endpoint: 'query',
      path: ROWS_QUERY,
      parameters: [],
      pageSize: PAGE_SIZE,
      maxRows: 0,
      outputProp: 'payload',
      cfgVersion: 1,
      x: 250,
      y: 60,
      wires: [['fetched']],
    },
    // Time stamps between the steps (function nodes pass the message on without copying it). Round n
    // (POST /go?round=n) goes to Export node n, so that every round really publishes new data.
    fn(
      'fetched',
      'fetched at, to round n',
      'msg.fetchedAt = Date.now();\n' +
        `const out = new Array(${RUNS}).fill(null);\n` +
        'out[(Number(msg.req.query.round) || 1) - 1] = msg;\nreturn out;',
      EXPORT_IDS.map((id) => [id]),
      120,
    ),
    ...EXPORT_IDS.map((id, i) => ({
      id,
      type: 'imis-export',
      z,
      name: `csv ${i + 1}`,
      source: 'payload',
      format: 'csv',
      nested: 'flatten',
      outputProp: 'publicUrl',
      publicBase: '',
      cfgVersion: 1,
      x: 450,
      y: 60 + 40 * i,
      wires: [['exported']],
    })),
    // The answer carries the link and the time stamps, not the 100,000 rows.
    fn(
      'exported',
      'exported at',
      'msg.payload = { publicUrl: msg.publicUrl, rows: msg.iqa && msg.iqa.rows, pages: msg.iqa && msg.iqa.pages,\n' +
        '  fetchedAt: msg.fetchedAt, exportedAt: Date.now() };\nreturn msg;',
      [['answer']],
      180,
    ),
    {
      id: 'answer',
      type: 'http response',
      z,
      name: '',
      statusCode: '200',
      headers: {},
      x: 650,
      y: 60,
      wires: [],
    },
    // A failed run answers 500 with the error instead of leaving the POST hanging.
    {
      id: 'catch',
      type: 'catch',
      z,
      name: '',
      scope: null,
      uncaught: false,
      x: 100,
      y: 260,
      wires: [['failed']],
    },
    fn(
      'failed',
      'failed',
      'msg.statusCode = 500;\nmsg.payload = { error: msg.error && msg.error.message };\nreturn msg;',
      [['answer']],
      260,
    ),
  ];
}

interface OursRun {
  /** RSS of the child just before the POST, MB. */
  beforeMb: number;
  totalS: number;
  fetchS: number;
  exportS: number;
  answerS: number;
  peakMb: number;
  polledPeakMb: number;
  hwmExact: boolean;
}

interface RefRun {
  fetchS: number;
  papaS: number;
  /** The package's own CSV function (what the Export node calls) on the same rows, same process. */
  toCsvS: number;
  csv: string;
}

async function oursOnce(
  red: RedProcess,
  pid: number | undefined,
  round: number,
): Promise<OursRun & { publicUrl: string }> {
  // VmHWM reset just before the POST makes it the exact peak of this run; the 50 ms poll is the fallback.
  const beforeMb = pid !== undefined ? (memoryOf(pid)?.rssMb ?? NaN) : NaN;
  const hwmExact = pid !== undefined && resetPeak(pid);
  const poll = pid !== undefined ? pollRss(pid) : undefined;
  let status: number;
  let text: string;
  let polledPeakMb: number;
  const t0 = Date.now();
  try {
    const res = await fetch(`${red.url}/go?round=${round}`, {
      method: 'POST',
      signal: AbortSignal.timeout(600_000),
    });
    status = res.status;
    text = await res.text();
  } finally {
    polledPeakMb = poll?.stop() ?? NaN;
  }
  const t3 = Date.now();
  const hwm = pid !== undefined ? (memoryOf(pid)?.hwmMb ?? NaN) : NaN;
  if (status !== 200) throw new Error(`POST /go → ${status}: ${text.slice(0, 500)}`);
  const answer = JSON.parse(text) as {
    publicUrl: string;
    rows: number;
    pages: number;
    fetchedAt: number;
    exportedAt: number;
  };
  if (answer.rows !== ROWS_COUNT) throw new Error(`the run fetched ${answer.rows} rows, not ${ROWS_COUNT}`);
  return {
    publicUrl: answer.publicUrl,
    beforeMb,
    totalS: (t3 - t0) / 1000,
    fetchS: (answer.fetchedAt - t0) / 1000,
    exportS: (answer.exportedAt - answer.fetchedAt) / 1000,
    answerS: (t3 - answer.exportedAt) / 1000,
    peakMb: hwmExact && Number.isFinite(hwm) ? Math.max(hwm, polledPeakMb) : polledPeakMb,
    polledPeakMb,
    hwmExact,
  };
}

async function refOnce(emulator: Emulator): Promise<RefRun> {
  const client = new ImisClient({ baseUrl: emulator.url, ...USER });
  const t0 = performance.now();
  const result = await fetchIqa(client, { path: ROWS_QUERY, endpoint: 'query', pageSize: PAGE_SIZE });
  const t1 = performance.now();
  const csv = unparse(result.rows);
  const t2 = performance.now();
  const ours = toCsv(result.rows);
  const t3 = performance.now();
  if (result.rows.length !== ROWS_COUNT) throw new Error(`fetchIqa gave ${result.rows.length} rows`);
  if (ours !== csv) console.log('note: toCsv and papaparse unparse differ on these rows');
  return { fetchS: (t1 - t0) / 1000, papaS: (t2 - t1) / 1000, toCsvS: (t3 - t2) / 1000, csv };
}

export async function exportBench(): Promise<SectionResult> {
  heading(
    `3. Export Data to URL: ${ROWS_COUNT.toLocaleString('en')} rows × 10 columns → CSV  vs  papaparse alone`,
  );
  let emulator: Emulator | undefined;
  let red: RedProcess | undefined;
  try {
    emulator = await startEmulator({ port: 0 });
    red = await startNodeRed({
      flows: flows(emulator.url),
      credentials: {
        srv: USER,
        ...Object.fromEntries(EXPORT_IDS.map((id) => [id, { token: randomBytes(24).toString('base64url') }])),
      },
    });
    const pid = redPid(red);
    console.log(`Node ${process.version}, Node-RED ${red.version} (${NODE_RED_PKG}), ${red.url}`);
    console.log(
      `emulator (in this process) ${emulator.url}, query "${ROWS_QUERY}", /api/Query, page size ${PAGE_SIZE}`,
    );
    console.log(`Node-RED child pid ${pid ?? 'not found (no /proc): no memory figures'}`);
    const idle = pid !== undefined ? memoryOf(pid) : undefined;
    if (idle) console.log(`child RSS idle before the first run: ${idle.rssMb.toFixed(0)} MB`);
    console.log(
      `${RUNS} rounds of: reference (fetchIqa, then papaparse unparse, then the package's toCsv), then ours ` +
        `(POST /go … answer), then GET of the public URL (checked, not timed; in the round's peak RSS)`,
    );
    console.log(
      `columns: ref csv = papaparse unparse alone; ours csv = the Export Data to URL node (flatten + papaparse + ` +
        `SHA-256 ETag, the body stored in parts in the SQLite store); ours fetch = POST → the Fetch IQA node's output\n`,
    );

    const ours: OursRun[] = [];
    const refs: RefRun[] = [];
    let checked = '';
    let allSame = true;
    console.log(
      `${'round'.padEnd(6)}${'run'.padEnd(6)}${'total s'.padStart(10)}${'fetch s'.padStart(10)}${'csv s'.padStart(10)}` +
        `${'toCsv s'.padStart(10)}${'answer s'.padStart(10)}${'RSS0 MB'.padStart(10)}${'peak MB'.padStart(10)}`,
    );
    const blank = '-'.padStart(10);
    for (let round = 1; round <= RUNS; round++) {
      const ref = await refOnce(emulator);
      refs.push(ref);
      console.log(
        `${String(round).padEnd(6)}${'ref'.padEnd(6)}${fmt(ref.fetchS + ref.papaS, 3)}${fmt(ref.fetchS, 3)}` +
          `${fmt(ref.papaS, 3)}${fmt(ref.toCsvS, 3)}${blank}${blank}${blank}`,
      );
      const run = await oursOnce(red, pid, round);
      ours.push(run);

      // The public URL serves the header and every row; compared with papaparse's output. The
      // round's peak covers this GET too (VmHWM is not reset between the POST and it).
      // Connection: close, so that the next round's POST does not take a kept-alive socket that
      // Node-RED closes after 5 idle seconds (the reference step between them can take that long
      // on a loaded machine: "fetch failed, other side closed").
      const got = await fetch(run.publicUrl, {
        headers: { Connection: 'close' },
        signal: AbortSignal.timeout(60_000),
      });
      const body = await got.text();
      if (got.status !== 200) throw new Error(`GET ${run.publicUrl} → ${got.status}: ${body.slice(0, 300)}`);
      const getHwm = run.hwmExact && pid !== undefined ? (memoryOf(pid)?.hwmMb ?? NaN) : NaN;
      if (Number.isFinite(getHwm)) run.peakMb = Math.max(run.peakMb, getHwm);
      console.log(
        `${String(round).padEnd(6)}${'ours'.padEnd(6)}${fmt(run.totalS, 3)}${fmt(run.fetchS, 3)}${fmt(run.exportS, 3)}` +
          `${blank}${fmt(run.answerS, 3)}${fmt(run.beforeMb, 0)}${fmt(run.peakMb, 0)}`,
      );
      const lines = body.split('\r\n').length;
      allSame &&= body === ref.csv;
      checked =
        `GET /imis/export/<token> after each round: ${got.status}, ${got.headers.get('content-type')}, ` +
        `${(Buffer.byteLength(body) / 1e6).toFixed(1)} MB, ${lines.toLocaleString('en')} lines ` +
        `(${lines === ROWS_COUNT + 1 ? 'OK: header + 100,000 rows' : `EXPECTED ${ROWS_COUNT + 1}`}), ` +
        `${allSame ? 'identical to' : 'DIFFERENT from'} papaparse's CSV of the same rows`;
      if (lines !== ROWS_COUNT + 1) throw new Error(checked);
    }
    console.log(`\n${checked}`);

    const oursS = mean(ours.map((r) => r.totalS));
    const oursFetchS = mean(ours.map((r) => r.fetchS));
    const oursExportS = mean(ours.map((r) => r.exportS));
    const papaS = mean(refs.map((r) => r.papaS));
    const toCsvS = mean(refs.map((r) => r.toCsvS));
    const refFetchS = mean(refs.map((r) => r.fetchS));
    // Judged on every round: memory must stay flat from run to run, not only in a fresh process.
    const peakMb = ours[0].peakMb;
    const maxPeakMb = Math.max(...ours.map((r) => r.peakMb));
    const roundPeaks = ours.map((r) => r.peakMb.toFixed(0)).join(', ');
    const growthMb = mean(ours.map((r) => r.peakMb - r.beforeMb));
    const fair = (refFetchS + papaS) / oursS;
    const papaOnly = papaS / oursS;
    const exact = ours.every((r) => r.hwmExact);
    console.log(`\nWhat the numbers include (means of ${RUNS} rounds):`);
    console.log(
      `  ours ${oursS.toFixed(3)} s = POST /go until the answer: Node-RED fetches ${ROWS_COUNT / PAGE_SIZE} pages of ` +
        `${PAGE_SIZE} rows from the emulator (${oursFetchS.toFixed(3)} s), the Export node publishes the CSV ` +
        `(${oursExportS.toFixed(3)} s), the answer (a few ms)`,
    );
    console.log(
      `  ref  fetchIqa ${refFetchS.toFixed(3)} s (same emulator, same ${ROWS_COUNT / PAGE_SIZE} pages, from this process) ` +
        `+ papaparse unparse ${papaS.toFixed(3)} s; the package's toCsv on the same rows: ${toCsvS.toFixed(3)} s`,
    );
    console.log(
      `  peak RSS of the Node-RED child: ${peakMb.toFixed(0)} MB in round 1 (idle before it: ` +
        `${idle?.rssMb.toFixed(0) ?? 'n/a'} MB), ${maxPeakMb.toFixed(0)} MB at most over ${RUNS} rounds (per round: ` +
        `${roundPeaks} MB); a run adds ${growthMb.toFixed(0)} MB on average to the RSS it starts from (RSS0)` +
        ` (${exact ? 'VmHWM, reset just before each POST, read after its GET' : 'VmRSS polled every 50 ms'})`,
    );
    console.log('');
    const papaOk = papaOnly >= TARGET_RATIO;
    const fairOk = fair >= TARGET_RATIO;
    const peakOk = maxPeakMb < TARGET_PEAK_MB;
    const lines = [
      `throughput ratio vs papaparse alone (papaparse s / our end-to-end s): ${papaOnly.toFixed(3)}  ` +
        `target >= ${TARGET_RATIO}: ${verdict(papaOk)} (as literally stated; ours includes fetching ` +
        `${ROWS_COUNT / PAGE_SIZE} pages, papaparse does not)`,
      `throughput ratio vs fetch + papaparse ((fetch + papaparse) s / our end-to-end s): ${fair.toFixed(3)}  ` +
        `target >= ${TARGET_RATIO}: ${verdict(fairOk)} (the fair comparison)`,
      `CSV step only: papaparse s / Export node s = ${(papaS / oursExportS).toFixed(3)}; ` +
        `papaparse s / toCsv s (same process, no files) = ${(papaS / toCsvS).toFixed(3)}`,
      `end-to-end ${oursS.toFixed(2)} s, peak RSS per round ${roundPeaks} MB (max ${maxPeakMb.toFixed(0)} MB; ` +
        `round 1 is a fresh process)  target < ${TARGET_PEAK_MB} MB in every round: ${verdict(peakOk)}`,
    ];
    for (const line of lines) console.log(line);
    const met = fairOk && peakOk;
    console.log(
      met
        ? 'TARGETS MET (ratio judged on fetch + papaparse)'
        : 'TARGETS NOT MET (ratio judged on fetch + papaparse, and peak RSS)',
    );
    return { lines, met };
  } catch (err) {
    // "fetch failed" alone says little: what undici saw, and what the child wrote last.
    const cause = (err as Error).cause;
    if (cause)
      console.log(`cause: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`);
    if (red) console.log(`Node-RED child's output (last 3,000 characters):\n${red.output().slice(-3000)}`);
    throw err;
  } finally {
    await red?.close();
    await emulator?.close();
  }
}
