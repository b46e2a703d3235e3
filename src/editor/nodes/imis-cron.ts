// Editor of imis-cron: a schedule, with its description and next times from the runtime.
import { registerType } from '../shared/node.js';
import { retryRow } from '../shared/rows.js';
import { runLabelsFields, runLabelsRows, saveRunLabels } from '../shared/run-labels.js';
import { errorText, nodeDefaults, postJson } from '../shared/settings.js';
import { timeZonePicker, timeZoneValidator } from '../shared/time-zone.js';

/** The answer of imis/cron/describe (src/nodes/imis-cron.ts). */
interface Description {
  valid: boolean;
  field?: string;
  description?: string;
  error?: string;
  timeZone?: string;
  next?: string[];
}

interface Preset {
  kind: string;
  hour?: number;
  minute?: number;
  days?: number[];
  day?: number | 'L';
  at?: string;
}

const fieldCount = (v: string) => (v || '').trim().split(/\s+/).length;

/** A time as the schedule's zone shows it (the browser's language). */
function inZone(iso: string, zone?: string): string {
  const options: Intl.DateTimeFormatOptions = {
    timeZone: zone,
    weekday: 'short',
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  };
  try {
    return new Date(iso).toLocaleString(undefined, options);
  } catch {
    return new Date(iso).toLocaleString();
  }
}

registerType<object>('imis-cron', {
  category: 'iMIS',
  paletteLabel() {
    return this._('imis-cron.label.palette');
  },
  color: '#7FB7DF',
  defaults: nodeDefaults('imis-cron', {
    retries: { validate: RED.validators.number(true) },
    retryDelaySec: { validate: RED.validators.number(true) },
    name: { value: '' },
    expression: {
      required: true,
      validate: (v: string) => {
        const n = fieldCount(v);
        return n >= 5 && n <= 7;
      },
    },
    timeZone: { validate: timeZoneValidator('imis-cron.errors.time-zone-short') },
    enabled: {},
    runMissed: {},
    ...runLabelsFields(),
  }),
  inputs: 1,
  outputs: 1,
  icon: 'imis-cron.svg',
  label() {
    return this.name || (this as { expression?: string }).expression || this._('imis-cron.label.default');
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  inputLabels() {
    return this._('imis-cron.label.control');
  },
  oneditprepare() {
    retryRow(this);
    const node = this;
    runLabelsRows(node);
    let pending: ReturnType<typeof setTimeout> | undefined;
    const describe = () => {
      clearTimeout(pending);
      pending = setTimeout(() => {
        postJson<Description>('imis/cron/describe', {
          expression: $('#node-input-expression').val(),
          timeZone: $('#node-input-timeZone').val(),
        }).done((r) => {
          $('#node-input-expression').toggleClass('input-error', !r.valid && r.field !== 'timeZone');
          $('#node-input-timeZone').toggleClass('input-error', !r.valid && r.field === 'timeZone');
          $('#imis-cron-description')
            .text((r.valid ? r.description : r.error) ?? '')
            .toggleClass('imis-cron-error', !r.valid);
          $('#imis-cron-zone').text(r.valid ? node._('imis-cron.label.in-zone', { zone: r.timeZone }) : '');
          const $next = $('#imis-cron-next').empty();
          for (const t of r.next ?? []) $('<li>').text(inZone(t, r.timeZone)).appendTo($next);
        });
      }, 200);
    };
    timeZonePicker($('#node-input-timeZone'));
    $('#node-input-expression, #node-input-timeZone').on('keyup change input', describe);
    describe();
    $('#imis-cron-kind')
      .on('change', function () {
        $('.imis-cron-build').hide();
        $('.imis-cron-build-' + String($(this).val())).show();
      })
      .trigger('change');
    $('#imis-cron-build').on('click', (e) => {
      e.preventDefault();
      const kind = String($('#imis-cron-kind').val());
      const time = String($('#imis-cron-time').val() || '00:00').split(':');
      let preset: Preset = { kind, hour: Number(time[0]), minute: Number(time[1]) };
      if (kind === 'hourly') preset = { kind: 'hourly', minute: Number($('#imis-cron-minute').val() || 0) };
      if (kind === 'weekly')
        preset.days = $('.imis-cron-day:checked')
          .map(function () {
            return Number((this as HTMLInputElement).value);
          })
          .get();
      if (kind === 'monthly') {
        const d = String($('#imis-cron-day').val());
        preset.day = d === 'L' ? 'L' : Number(d);
      }
      if (kind === 'once') preset = { kind: 'once', at: String($('#imis-cron-once').val()) };
      postJson<{ expression: string }>('imis/cron/build', preset)
        .done((r) => {
          $('#node-input-expression').val(r.expression).trigger('change');
        })
        .fail((xhr) => {
          RED.notify(errorText(xhr), 'error');
        });
    });
  },
  oneditsave() {
    saveRunLabels(this);
  },
});
