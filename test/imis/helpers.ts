/** The emulator-backed setup the iMIS client tests share: real sockets on 127.0.0.1. */
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { ImisClient, type ImisClientOptions } from '../../src/imis/client.js';

/** Client settings besides the emulator's MANAGER login; `baseUrl` derives from the emulator's URL. */
type ClientSettings = Omit<ImisClientOptions, 'baseUrl' | 'username' | 'password'> & {
  baseUrl?: (emulatorUrl: string) => string;
};

/**
 * The emulator the tests of a describe block share, started before them and closed after them,
 * and before each test its state reset and a new client of it as MANAGER with `settings`; `use`
 * receives both.
 */
export function emulatorAndClient(
  use: (shared: { emulator: Emulator; client: ImisClient }) => void,
  { baseUrl = (url) => url, ...settings }: ClientSettings = {},
): void {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ port: 0 });
  });
  after(() => emulator.close());
  beforeEach(() => {
    emulator.state.reset();
    const client = new ImisClient({
      baseUrl: baseUrl(emulator.url),
      username: 'MANAGER',
      password: 'manager',
      ...settings,
    });
    use({ emulator, client });
  });
}
