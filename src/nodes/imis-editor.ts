/** Editor plugin: code shared by the package's node dialogs (see imis-editor.html). */
export = function register(RED: any): void {
  RED.plugins.registerPlugin('imis-editor', { type: 'imis-editor-common' });
};
