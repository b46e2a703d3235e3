import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { Emulator } from '../../src/emulator/server.js';
import type { Attempt, LoadJob } from './load-client.js';

export type { Attempt, LoadJob } from './load-client.js';

/**
 * Runs the load client (test/system/load-client.ts) as a child process with the same node binary;
 * `onAccepted` is called with the count of 200 answers so far, after each one.
 */
export function runLoad(
  job: LoadJob,
  onAccepted: (ok: number) => void = () => undefined,
): Promise<Attempt[]> {
  const child = fork(join(__dirname, 'load-client.js'), [], {
    execPath: process.execPath,
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let result: Attempt[] | undefined;
    child.on('message', (message: { ok?: number; done?: Attempt[] }) => {
      if (message.done) result = message.done;
      else if (message.ok) onAccepted(message.ok);
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      result ? resolve(result) : reject(new Error(`the load client exited with ${code} before it finished`)),
    );
    child.send(job);
  });
}

/** How many activities the emulator holds per check-in tag (the last word of their description). */
export function activitiesByTag(emulator: Emulator): Map<string, number> {
  const counts = new Map<string, number>();
  for (const activity of emulator.state.activities) {
    const tag = /\bSYSTEST (\S+)$/.exec(String(activity.DESCRIPTION ?? ''))?.[1];
    if (tag) counts.set(tag, (counts.get(tag) ?? 0) + 1);
  }
  return counts;
}

/** The 200 answers among the attempts. */
export function accepted(attempts: Attempt[]): Attempt[] {
  return attempts.filter((a) => a.status === 200);
}

/**
 * GET `url` for each path, `parallel` at a time; the JSON bodies (undefined for a non-2xx answer),
 * read as `T` (the caller names what the paths answer).
 */
export async function getAll<T = unknown>(
  base: string,
  paths: string[],
  parallel = 16,
): Promise<(T | undefined)[]> {
  const results: (T | undefined)[] = new Array(paths.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < paths.length) {
        const i = next++;
        const res = await fetch(base + paths[i]);
        results[i] = res.ok ? ((await res.json()) as T) : (await res.arrayBuffer(), undefined);
      }
    }),
  );
  return results;
}
