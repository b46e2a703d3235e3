import type { NodeModule } from './lib/red.js';

/** Editor plugin: code shared by the package's node dialogs (see imis-editor.html). */
const register: NodeModule = (RED) => {
  RED.plugins.registerPlugin('imis-editor', { type: 'imis-editor-common' });
};

export = register;
