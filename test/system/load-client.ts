/**
 * The caller of the system tests, run as its own process (child_process.fork) so that killing
 * Node-RED never touches it: posts check-in webhooks with keep-alive and a fixed concurrency,
 * and records, for every attempt, the status it got and the run id of a 200. A webhook whose
 * attempt gets no answer (connection refused or reset while Node-RED is down) or any other status
 * is tried again, as a new attempt with its own tag, until one gets 200.
 *
 * Protocol: the parent sends one LoadJob; the child sends `{ ok: n }` after each 200 and finally
 * `{ done: Attempt[] }`, then exits.
 */
import http from 'node:http';

export interface LoadTarget {
  /** Webhook URL. */
  url: string;
  /** Webhooks to get accepted (200) by this URL. */
  count: number;
}

export interface LoadJob {
  targets: LoadTarget[];
  /** Requests in flight per target. */
  concurrency: number;
  /** Members the check-ins are for (round robin). */
  members: string[];
  /** Give up on a webhook after this many attempts (default 1000). */
  maxAttempts?: number;
}

export interface Attempt {
  /** Unique per attempt; the check-in's sessionCode, so its activity names it. */
  tag: string;
  target: number;
  memberId: string;
  /** HTTP status; 0 = no answer (connection refused, reset, timeout). */
  status: number;
  /** The run id of a 200 answer. */
  runId?: string;
}

function post(agent: http.Agent, url: URL, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
        timeout: 15_000,
      },
      (res) => {
        let text = '';
        let ended = false;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => (ended = true));
        // An answer cut off by the kill counts as no answer.
        res.on('close', () => resolve(ended ? { status: res.statusCode ?? 0, text } : { status: 0, text }));
        res.on('error', () => undefined);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, text: '' }));
    req.end(body);
  });
}

async function run(job: LoadJob): Promise<Attempt[]> {
  const attempts: Attempt[] = [];
  let ok = 0;
  await Promise.all(
    job.targets.map(async (target, t) => {
      const url = new URL(target.url);
      const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
      let next = 0;
      const worker = async () => {
        while (next < target.count) {
          const n = next++;
          const memberId = job.members[n % job.members.length];
          for (let a = 0; a < (job.maxAttempts ?? 1000); a++) {
            const tag = `t${t}n${n}a${a}`;
            const body = JSON.stringify({
              memberId,
              eventCode: 'SYSTEST',
              checkInTime: '2026-05-27T09:15:00',
              sessionCode: tag,
            });
            const res = await post(agent, url, body);
            const attempt: Attempt = { tag, target: t, memberId, status: res.status };
            if (res.status === 200) {
              try {
                attempt.runId = (JSON.parse(res.text) as { id?: string }).id;
              } catch {
                // recorded without a run id: the test fails on it
              }
            }
            attempts.push(attempt);
            if (res.status === 200) {
              process.send?.({ ok: ++ok });
              break;
            }
            await new Promise((resolve) => setTimeout(resolve, 100)); // the client's pause before trying again
          }
        }
      };
      await Promise.all(Array.from({ length: job.concurrency }, worker));
      agent.destroy();
    }),
  );
  return attempts;
}

process.once('message', (job: LoadJob) => {
  run(job).then(
    (attempts) => process.send?.({ done: attempts }, () => process.exit(0)),
    (err: Error) => {
      console.error(err);
      process.exit(1);
    },
  );
});
