import { startEmulator } from '../../src/emulator/server.js';
import type { Emulator } from '../../src/emulator/server.js';
import { freshDataDir, startHelper, stopHelper } from './red.js';

export interface HelperRed {
  /** The test helper's base URL (editor and flows on one server, as Node-RED's defaults). */
  base: string;
  /** This test's imisDataDir (the package's store). */
  dataDir: string;
}

export interface EmulatedRed extends HelperRed {
  emulator: Emulator;
}

/**
 * The mocha hooks of a node test that runs flows: the Node-RED test helper on a fresh data
 * directory per test, with `settings` (Node-RED settings) if given, stopped after it. Call it
 * inside describe(); `set` receives the values before each test.
 */
export function useRed(set: (env: HelperRed) => void, settings?: Record<string, unknown>): void {
  beforeEach(async () => {
    const dataDir = freshDataDir();
    set({ dataDir, base: await startHelper(dataDir, settings) });
  });
  afterEach(stopHelper);
}

/**
 * The mocha hooks of a node test that runs flows against the emulator: one emulator for the suite,
 * reset before each test, and the Node-RED test helper on a fresh data directory per test (useRed).
 * Call it inside describe(); `set` receives the values as each hook makes them.
 */
export function useEmulatedRed(set: (env: EmulatedRed) => void): void {
  const env = {} as EmulatedRed;
  before(async () => {
    env.emulator = await startEmulator({ port: 0 });
    set(env);
  });
  after(async () => {
    await env.emulator.close();
  });
  beforeEach(() => env.emulator.state.reset());
  useRed(({ base, dataDir }) => {
    env.base = base;
    env.dataDir = dataDir;
    set(env);
  });
}
