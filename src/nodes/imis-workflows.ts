import { mountWorkflowApi } from './lib/workflow-api.js';

/** Editor plugin: the "iMIS workflows" sidebar (see imis-workflows.html); its admin API is lib/workflow-api. */
export = function register(RED: any): void {
  RED.plugins.registerPlugin('imis-workflows', { type: 'imis-workflows-sidebar' });
  mountWorkflowApi(RED);
};
