// Editor of imis-api: any iMIS REST call.
import { registerAction } from '../shared/action.js';

interface ApiNode {
  method?: string;
  path?: string;
}

const WITH_BODY: Record<string, boolean> = { POST: true, PUT: true };

registerAction<ApiNode>('imis-api', {
  defaults: {
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
  },
  icon: 'imis-api.svg',
  label() {
    return this.path && this.path !== '/api/'
      ? (this.method || 'GET') + ' ' + this.path
      : this._('imis-api.label.default');
  },
  oneditprepare() {
    $('#node-input-method')
      .on('change', function () {
        const method = String($(this).val());
        $('.imis-api-body').toggle(!!WITH_BODY[method]);
        $('.imis-api-get').toggle(method === 'GET');
      })
      .trigger('change');
  },
});
