// Secret URL tokens and the URL row (Copy / Regenerate) of Webhook in, change notification in and
// Export Data to URL.
import { setting } from './settings.js';

interface EditedNode {
  type: string;
  _: (key: string, subs?: Record<string, unknown>) => string;
  _def: { set: { id: string } };
}

/** 24 random bytes from the browser's CSPRNG, base64url: 192 bits (the runtime checks the form). */
export function newToken(): string {
  const bytes = new Uint8Array(24);
  window.crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/**
 * A node of `type` added from the palette, pasted or imported (on any tab) gets a token of its
 * own: an exported flow never carries the token, so an imported copy never shares the original's
 * URL. Nodes loaded from the server are not "changed" and keep theirs.
 */
export function giveTokensOnAdd(type: string): void {
  RED.events.on('nodes:add', (n: { type: string; changed?: boolean; credentials?: { token?: string } }) => {
    if (n.type === type && n.changed && !n.credentials?.token)
      n.credentials = { ...n.credentials, token: newToken() };
  });
}

/**
 * Wires the dialog's URL row: #node-input-token (hidden credential), #node-input-url (read only),
 * #node-input-url-copy and #node-input-url-regenerate. `path` is e.g. 'imis/hook/'; `base()`
 * optionally gives the public origin. Messages come from the node's catalog (`<type>.notify.*`):
 * node._() looks them up there; RED.clipboard looks its message up with the global RED._, so
 * that key names the node's catalog namespace (its node set id). Returns the function that
 * shows the URL again.
 */
export function secretUrlRow(node: EditedNode, path: string, base?: () => string | undefined): () => void {
  const $token = $('#node-input-token');
  const wellFormed = new RegExp(setting<string>(node.type, 'TokenPattern') ?? '');
  if (!wellFormed.test(String($token.val() ?? ''))) $token.val(newToken());
  const show = () => {
    const root = (RED.settings.httpNodeRoot || '/').replace(/\/?$/, '/');
    const origin = base?.() || location.protocol + '//' + location.host;
    $('#node-input-url').val(origin.replace(/\/$/, '') + root + path + String($token.val()));
  };
  show();
  $('#node-input-url-copy').on('click', function (e) {
    e.preventDefault();
    const clipboard = RED.clipboard as unknown as { copyText(text: unknown, el: JQuery, key: string): void };
    clipboard.copyText(
      $('#node-input-url').val(),
      $(this),
      node._def.set.id + ':' + node.type + '.notify.copied',
    );
  });
  $('#node-input-url-regenerate').on('click', (e) => {
    e.preventDefault();
    $token.val(newToken()).trigger('change');
    show();
    RED.notify(node._(node.type + '.notify.regenerated'), 'warning');
  });
  return show;
}
