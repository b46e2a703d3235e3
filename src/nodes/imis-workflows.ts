import type { NodeModule } from './lib/red.js';
import { mountWorkflowApi } from './lib/workflow-api.js';

/** Editor plugin: the "iMIS workflows" sidebar (src/editor/nodes/imis-workflows.ts); its admin API is lib/workflow-api. */
const register: NodeModule = (RED) => {
  RED.plugins.registerPlugin('imis-workflows', { type: 'imis-workflows-sidebar' });
  mountWorkflowApi(RED);
};

export = register;
