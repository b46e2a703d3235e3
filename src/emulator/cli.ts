#!/usr/bin/env node
/**
 * The `imis-emulator` command (`npm run emulator` in this repository): a local iMIS on
 * http://127.0.0.1:5080 (IMIS_EMULATOR_PORT, IMIS_EMULATOR_HOST) for the examples and for trying
 * flows without a real iMIS.
 */
import { parseArgs } from 'node:util';
import { isPortTaken, portFromEnv, portTakenMessage } from './ports.js';
import { DEFAULT_USERS, startEmulator } from './server.js';

const USAGE = `Usage: imis-emulator [--help]

Starts a local iMIS emulator (REST API, IQA, panels, iUpdate, change notifications) for the
examples of @imisflow/node-red-imis and for trying flows without a real iMIS. It prints its base
URL, username and password, and runs until stopped (Ctrl+C).

Options:
  -h, --help   print this help and exit

Environment:
  IMIS_EMULATOR_PORT   port to listen on (default 5080)
  IMIS_EMULATOR_HOST   address to listen on (default 127.0.0.1)
`;

/** The command's options: --help prints the usage; anything else is refused with it. */
function options(args: string[]): { help: boolean } {
  try {
    const { values } = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' } } });
    return { help: values.help === true };
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  if (options(process.argv.slice(2)).help) {
    process.stdout.write(USAGE);
    return;
  }
  const port = portFromEnv('IMIS_EMULATOR_PORT', 5080);
  const emulator = await startEmulator({ port, host: process.env.IMIS_EMULATOR_HOST ?? '127.0.0.1' }).catch(
    (err: unknown) => {
      throw isPortTaken(err) ? new Error(portTakenMessage('iMIS emulator', port, 'IMIS_EMULATOR_PORT')) : err;
    },
  );
  const user = DEFAULT_USERS[0];
  console.log(`iMIS emulator listening on ${emulator.url}`);
  console.log(`  base URL:  ${emulator.url}`);
  console.log(`  username:  ${user.username}`);
  console.log(`  password:  ${user.password}`);
  console.log(`  members:   ${[...emulator.state.parties.keys()].join(', ')}`);
  console.log(`  panels:    ${[...emulator.state.panels.keys()].join(', ')}`);
  console.log(`  events:    ${[...emulator.state.events.keys()].join(', ')}`);
  console.log('  IQA queries (GET /api/Query or /api/iqa?QueryName=...):');
  for (const query of emulator.state.iqa.queries) console.log(`    ${query.path}`);
  console.log('  iUpdate tasks (no token needed):');
  for (const task of emulator.state.iupdate.tasks) {
    console.log(`    ${task.name}`);
    console.log(`      standard: ${task.standardUrl}`);
    console.log(`      polling:  ${task.pollingUrl}`);
  }
  console.log(
    '  change notifications: PUT /api/ChangeNotificationSettings {"EndpointUrl": "..."}, ' +
      'then POST /api/ChangeNotificationSettings/_verify',
  );
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping the iMIS emulator`);
    void emulator.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
