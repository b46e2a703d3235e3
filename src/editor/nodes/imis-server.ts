// Editor of imis-server: an iMIS server (config node), with Test connection.
import type { ServerConfig } from '../../nodes/lib/server-settings.js';
import { registerType } from '../shared/node.js';
import { errorText, nodeDefaults, postJson } from '../shared/settings.js';
import { timeZonePicker, timeZoneValidator } from '../shared/time-zone.js';

/** The answer of imis/server/test: who signed in, and for how long. */
interface TestAnswer {
  userName?: string;
  expiresIn?: number;
}

registerType<Partial<ServerConfig>>('imis-server', {
  category: 'config',
  // The dialog's title ("Edit iMIS server node") and the help's: a label, not the raw type.
  paletteLabel() {
    return this._('imis-server.label.palette');
  },
  defaults: nodeDefaults('imis-server', {
    name: { value: '' },
    // The local iMIS emulator's address, a suggestion (the runtime has no default URL).
    baseUrl: {
      value: 'http://127.0.0.1:5080',
      required: true,
      validate: RED.validators.regex(/^https?:\/\/[^\s]+$/),
    },
    timeZone: { validate: timeZoneValidator('imis-server.errors.time-zone') },
    maxInFlight: { validate: RED.validators.number() },
    timeoutSec: { validate: RED.validators.number() },
    retries: { validate: RED.validators.number() },
  }),
  credentials: {
    username: { type: 'text' },
    password: { type: 'password' },
  },
  label() {
    return this.name || this.baseUrl || '';
  },
  oneditprepare() {
    const node = this;
    $('#node-config-input-maxInFlight').spinner({ min: 1, max: 64 });
    $('#node-config-input-timeoutSec').spinner({ min: 1 });
    $('#node-config-input-retries').spinner({ min: 0, max: 10 });
    timeZonePicker($('#node-config-input-timeZone'));
    $('#node-config-input-test').on('click', (e) => {
      e.preventDefault();
      const $result = $('#node-config-test-result')
        .removeClass('imis-ok imis-fail')
        .text(node._('imis-server.label.testing'));
      postJson<TestAnswer>('imis/server/test', {
        id: node.id,
        baseUrl: $('#node-config-input-baseUrl').val(),
        username: $('#node-config-input-username').val(),
        password: $('#node-config-input-password').val(),
      })
        .done((r) => {
          $result.addClass('imis-ok').text(
            node._('imis-server.label.test-ok', {
              user: r.userName || '',
              minutes: Math.round((r.expiresIn || 0) / 60),
            }),
          );
        })
        .fail((xhr) => {
          $result
            .addClass('imis-fail')
            .text(node._('imis-server.label.test-fail', { message: errorText(xhr) }));
        });
    });
  },
});
