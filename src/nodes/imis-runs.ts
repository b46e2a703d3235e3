import type { NodeModule } from './lib/red.js';
import { mountRunsApi } from './lib/runs-api.js';

/** Editor plugin: the "iMIS runs" sidebar (src/editor/nodes/imis-runs.ts); its admin API lives in lib/runs-api. */
const register: NodeModule = (RED) => {
  RED.plugins.registerPlugin('imis-runs', { type: 'imis-runs-sidebar' });
  mountRunsApi(RED);
};

export = register;
