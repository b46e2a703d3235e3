// `npm start`: the local iMIS emulator, then Node-RED (127.0.0.1) with this package and the example
// flows deployed. The Node-RED user directory is ./.node-red (kept between starts; delete it to
// start afresh; NODE_RED_USER_DIR moves it). Environment: PORT (Node-RED, default 1880),
// IMIS_EMULATOR_PORT (default 5080); a port already taken ends it with one line naming the variable.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PACKAGE_ROOT as root, prepareUserDir, spawnNodeRed } from './node-red-user-dir.mjs';

const require = createRequire(import.meta.url);
const userDir = process.env.NODE_RED_USER_DIR || join(root, '.node-red');
const { startEmulator } = require(join(root, 'dist/src/emulator/server.js'));
const { isPortTaken, portFromEnv, portIsFree, portTakenMessage } = require(join(root, 'dist/src/emulator/ports.js'));

/** One line on stderr, no stack trace, exit code 1. */
function fail(message) {
  console.error(message);
  process.exit(1);
}

let port, emulatorPort;
try {
  port = portFromEnv('PORT', 1880);
  emulatorPort = portFromEnv('IMIS_EMULATOR_PORT', 5080);
} catch (err) {
  fail(err.message);
}
// Node-RED's port is checked before anything starts; its own message would come after the emulator's.
if (!(await portIsFree(port, '127.0.0.1'))) fail(portTakenMessage('Node-RED editor', port, 'PORT'));
const emulator = await startEmulator({ port: emulatorPort }).catch((err) =>
  fail(isPortTaken(err) ? portTakenMessage('iMIS emulator', emulatorPort, 'IMIS_EMULATOR_PORT') : err.message),
);
console.log(`iMIS emulator: ${emulator.url} (user MANAGER, password manager)`);

// The package is installed into the user directory as a link, as `npm install <path>` would.
prepareUserDir({ userDir, port });

// First start: deploy every example flow, pointed at this emulator, with working credentials.
const flowFile = join(userDir, 'flows.json');
if (!existsSync(flowFile)) {
  const flows = [];
  const credentials = {};
  const ids = new Set();
  for (const file of readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.json')).sort()) {
    for (const node of JSON.parse(readFileSync(join(root, 'examples', file), 'utf8'))) {
      // The examples share one imis-server config node (same id in every file): deploy it once.
      if (ids.has(node.id)) continue;
      ids.add(node.id);
      if (node.type === 'imis-server') {
        node.baseUrl = emulator.url;
        credentials[node.id] = { username: 'MANAGER', password: 'manager' };
      }
      if (['imis-webhook-in', 'imis-change-in', 'imis-export'].includes(node.type)) {
        credentials[node.id] = { token: randomBytes(24).toString('base64url') };
      }
      if (node.type === 'imis-iupdate') {
        // The emulator's iUpdate tasks, matched by name (polling or standard URL as configured).
        const tasks = emulator.state.iupdate.tasks;
        const urls = node.tasks.map((t) => {
          const task = tasks.find((e) => e.name === t.name) ?? tasks[0];
          return t.kind === 'polling' ? task.pollingUrl : task.standardUrl;
        });
        credentials[node.id] = { urls: JSON.stringify(urls) };
      }
      flows.push(node);
    }
  }
  writeFileSync(flowFile, JSON.stringify(flows, null, 4));
  writeFileSync(join(userDir, 'flows_cred.json'), JSON.stringify(credentials, null, 4));
}

const credentials = JSON.parse(readFileSync(join(userDir, 'flows_cred.json'), 'utf8'));
let notifyUrl;
for (const node of JSON.parse(readFileSync(flowFile, 'utf8'))) {
  const token = credentials[node.id]?.token;
  if (!token) continue;
  if (node.type === 'imis-webhook-in') console.log(`Webhook "${node.name}": http://127.0.0.1:${port}/imis/hook/${token}`);
  if (node.type === 'imis-export') console.log(`Export "${node.name}": http://127.0.0.1:${port}/imis/export/${token}`);
  if (node.type === 'imis-change-in') notifyUrl = notifyUrl ?? `http://127.0.0.1:${port}/imis/notify/${token}`;
}
console.log(`Node-RED editor: http://127.0.0.1:${port}/`);

// iMIS > Settings > Change notifications: register the first change notification node and
// "Verify and Save" once Node-RED answers.
async function registerChangeNotifications() {
  if (!notifyUrl) return;
  emulator.state.notifications.configure({ endpointUrl: notifyUrl });
  for (let attempt = 0; attempt < 120; attempt++) {
    const result = await emulator.state.notifications.verify().catch((err) => ({ status: 'Failed', message: err.message }));
    if (result.status === 'Verified') {
      console.log(`iMIS emulator change notifications: ${notifyUrl} verified`);
      return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  console.log('iMIS emulator change notifications: could not verify the endpoint');
}

const red = spawnNodeRed({ userDir });
registerChangeNotifications();
const stop = () => red.kill('SIGINT');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
red.on('exit', async (code) => {
  await emulator.close();
  process.exit(code ?? 0);
});
