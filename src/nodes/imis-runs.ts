import { mountRunsApi } from './lib/runs-api.js';

/** Editor plugin: the "iMIS runs" sidebar (see imis-runs.html); its admin API lives in lib/runs-api. */
export = function register(RED: any): void {
  RED.plugins.registerPlugin('imis-runs', { type: 'imis-runs-sidebar' });
  mountRunsApi(RED);
};
