// Editor of imis-api: any iMIS REST call.
import { registerType } from '../shared/node.js';
import { onErrorOutputLabel, onErrorRow } from '../shared/rows.js';
import { nodeDefaults } from '../shared/settings.js';

interface ApiNode {
  onError?: string;
  method?: string;
  path?: string;
}

const WITH_BODY: Record<string, boolean> = { POST: true, PUT: true };

registerType<ApiNode>('imis-api', {
  category: 'iMIS',
  paletteLabel() {
    return this._('imis-api.label.palette');
  },
  color: '#A6BBCF',
  defaults: nodeDefaults('imis-api', {
    onError: {},
    name: { value: '' },
    server: { value: '', type: 'imis-server', required: true },
    method: { validate: (v: string) => ['GET', 'POST', 'PUT', 'DELETE'].includes(v) },
    // /api/<something>, or a template that renders it.
    path: { validate: (v: string) => /\{\{|\{%/.test(v || '') || /^\s*\/?api\/[^\s/]/i.test(v || '') },
    query: {},
    body: {},
    outputProp: { required: true },
    attempts: {
      validate: (v: string) => {
        const n = Number(v);
        return v === '' || (Math.floor(n) === n && n >= 0 && n <= 10);
      },
    },
    fetchAll: {},
    simplify: {},
  }),
  inputs: 1,
  outputs: 1,
  icon: 'imis-api.svg',
  label() {
    if (this.name) return this.name;
    return this.path && this.path !== '/api/'
      ? (this.method || 'GET') + ' ' + this.path
      : this._('imis-api.label.default');
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  outputLabels() {
    return onErrorOutputLabel(this);
  },
  oneditprepare() {
    onErrorRow(this);
    $('#node-input-outputProp').typedInput({ types: ['msg'] });
    $('#node-input-method')
      .on('change', function () {
        const method = String($(this).val());
        $('.imis-api-body').toggle(!!WITH_BODY[method]);
        $('.imis-api-get').toggle(method === 'GET');
      })
      .trigger('change');
  },
});
