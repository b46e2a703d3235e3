import { startEmulator } from '../../src/emulator/server.js';
import type { Emulator } from '../../src/emulator/server.js';
import { freshDataDir, startHelper, stopHelper } from './red.js';

export interface EmulatedRed {
  emulator: Emulator;
  /** The test helper's base URL (editor and flows on one server, as Node-RED's defaults). */
  base: string;
  /** This test's imisDataDir (the package's store). */
  dataDir: string;
}

/**
 * The mocha hooks of a node test that runs flows against the emulator: one emulator for the suite,
 * reset before each test, and the Node-RED test helper on a fresh data directory per test. Call it
 * inside describe(); `set` receives the values as each hook makes them.
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
  beforeEach(async () => {
    env.emulator.state.reset();
    env.dataDir = freshDataDir();
    env.base = await startHelper(env.dataDir);
    set(env);
  });
  afterEach(stopHelper);
}
