// The editor's globals: Node-RED's RED (typed by @types/node-red__editor-client), and the jQuery UI
// widgets Node-RED's editor brings.
import type { RED as EditorRED } from '@node-red/editor-client';

declare global {
  const RED: EditorRED;

  interface JQuery {
    spinner(options?: { min?: number; max?: number }): JQuery;
    dialog(options: object): JQuery;
    dialog(method: 'close' | 'destroy'): JQuery;
  }
}
