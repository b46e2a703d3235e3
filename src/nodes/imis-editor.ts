import type { NodeModule } from './lib/red.js';

/** Editor plugin: the message catalog and style the package's node dialogs share (src/editor/nodes/imis-editor.ts). */
const register: NodeModule = (RED) => {
  RED.plugins.registerPlugin('imis-editor', { type: 'imis-editor-common' });
};

export = register;
