// The imis-editor plugin: names the message catalog the shared dialog parts use (imis-editor.json,
// see shared/settings.ts `t`), and brings the dialogs' shared style (shared/form.css). The shared
// code itself is bundled into each node's editor module.
import '../shared/form.css';

RED.plugins.registerPlugin('imis-editor', { type: 'imis-editor-common' } as never);
