import assert from 'node:assert/strict';
import {
  compileJsonTemplate,
  compileTemplate,
  compileTemplates,
  convertLegacy,
  hasLegacySyntax,
  TemplateError,
  type TemplateContext,
} from '../../src/core/templates.js';

const checkIn = {
  memberId: '12345',
  eventCode: 'CONF2026',
  checkInTime: '2026-05-27T09:15:00',
  sessionCode: 'KEYNOTE',
};
const ctx: TemplateContext = { input: checkIn, msg: { topic: 'check-in', payload: checkIn, _msgid: 'm1' } };

function render(source: string, context: TemplateContext = ctx): string {
  return compileTemplate(source, 'Field').render(context);
}

function throwsTemplateError(fn: () => unknown, field: string, detail: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TemplateError, `expected TemplateError, got ${String(err)}`);
    assert.equal(err.field, field);
    assert.ok(err.message.startsWith(`Template for "${field}" failed: `), err.message);
    assert.match(err.message, detail);
    return true;
  });
}

describe('core/templates', () => {
  it('renders {{ input.memberId }} from the trigger payload', () => {
    assert.equal(render('{{ input.memberId }}'), '12345');
    assert.equal(
      render('Check-in {{ input.eventCode }}/{{ input.sessionCode }}'),
      'Check-in CONF2026/KEYNOTE',
    );
  });

  it('passes static text through unchanged without Liquid', () => {
    const t = compileTemplate('CHECKIN', 'Activity Type');
    assert.equal(t.isStatic, true);
    assert.equal(t.render(ctx), 'CHECKIN');
    assert.equal(render('Price: $5 & <b>bold</b>'), 'Price: $5 & <b>bold</b>');
    assert.equal(compileTemplate('{{ input.memberId }}', 'ID').isStatic, false);
  });

  it('recognises the legacy $$memberId$$ syntax, converts it and renders it', () => {
    assert.equal(hasLegacySyntax('$$memberId$$'), true);
    assert.equal(hasLegacySyntax('costs $$ 5'), false);
    assert.equal(hasLegacySyntax('{{ input.memberId }}'), false);
    assert.equal(convertLegacy('$$memberId$$'), '{{ input.memberId }}');
    assert.equal(
      convertLegacy('ID $$a.b$$ and $$items.0.id$$'),
      'ID {{ input.a.b }} and {{ input.items[0].id }}',
    );
    assert.equal(render('$$memberId$$ at $$eventCode$$'), '12345 at CONF2026');
    const nested = { input: { a: { b: 'deep' }, items: [{ id: 7 }] }, msg: {} };
    assert.equal(render('$$a.b$$-$$items.0.id$$', nested), 'deep-7');
    assert.equal(compileTemplate('$$memberId$$', 'ID').source, '$$memberId$$');
  });

  it('renders a missing input property as an empty string', () => {
    assert.equal(render('[{{ input.notThere }}]'), '[]');
    assert.equal(render('[{{ input.a.b.c }}]'), '[]');
    assert.equal(render('[{{ input.memberId }}]', { input: undefined, msg: {} }), '[]');
  });

  it('throws a TemplateError naming the field on a syntax error, at compile time', () => {
    throwsTemplateError(
      () => compileTemplate('{{ input.memberId ', 'Activity Type'),
      'Activity Type',
      /not closed/,
    );
    throwsTemplateError(() => compileTemplate('{% if %}x{% endif %}', 'Notes'), 'Notes', /failed: /);
  });

  it('throws on an unknown filter (strict filters)', () => {
    throwsTemplateError(
      () => compileTemplate('{{ input.memberId | nosuchfilter }}', 'ID'),
      'ID',
      /nosuchfilter/,
    );
  });

  it('makes the whole message available as msg (msg.topic)', () => {
    assert.equal(render('{{ msg.topic }}:{{ msg.payload.memberId }}'), 'check-in:12345');
  });

  it('renders objects and arrays as JSON, not [object Object]', () => {
    const input = { obj: { a: 1, b: 'x' }, list: [1, 'two'] };
    assert.equal(render('{{ input.obj }}', { input, msg: {} }), '{"a":1,"b":"x"}');
    assert.equal(render('{{ input.list }}', { input, msg: {} }), '[1,"two"]');
    assert.equal(render('{{ input.obj | json }}', { input, msg: {} }), '{"a":1,"b":"x"}');
    assert.equal(JSON.parse(render('{{ input }}')).memberId, '12345');
  });

  it('does not HTML-escape output', () => {
    assert.equal(
      render('{{ input.t }}', { input: { t: 'Tom & "Jerry" <x>' }, msg: {} }),
      'Tom & "Jerry" <x>',
    );
  });

  it('does not expose prototype members (own properties only)', () => {
    assert.equal(render('[{{ input.constructor }}][{{ input.toString }}][{{ input.__proto__ }}]'), '[][][]');
  });

  it("supports Liquid filters such as date: {{ input.checkInTime | date: '%Y-%m-%d' }}", () => {
    assert.equal(render("{{ input.checkInTime | date: '%Y-%m-%d' }}"), '2026-05-27');
    assert.equal(render("{{ input.checkInTime | date: '%H:%M' }}"), '09:15');
    assert.equal(render("{{ '2026-05-27' | date: '%Y-%m-%d' }}"), '2026-05-27');
    assert.equal(render('{{ input.eventCode | downcase }}'), 'conf2026');
    assert.equal(render("{{ input.missing | default: 'n/a' }}"), 'n/a');
  });

  it('compiles a whole field set once, skipping empty fields and naming fields by label', () => {
    type Field = 'id' | 'activityType' | 'transactionDate' | 'notes';
    const set = compileTemplates<Field>(
      { id: '{{ input.memberId }}', activityType: 'MEETING', transactionDate: '', notes: undefined },
      { id: 'ID', activityType: 'Activity Type' },
    );
    assert.deepEqual(set.render(ctx), { id: '12345', activityType: 'MEETING' });
    throwsTemplateError(
      () =>
        compileTemplates<Field>({ activityType: '{{ input.x | bogus }}' }, { activityType: 'Activity Type' }),
      'Activity Type',
      /bogus/,
    );
    const unclosed: Partial<Record<Field, string>> = { notes: '{{ x' };
    throwsTemplateError(() => compileTemplates(unclosed), 'notes', /not closed/);
  });

  it('renders a compiled template again and again with the same result (compiled once, speed in npm run bench)', () => {
    const t = compileTemplate('{{ input.memberId }}-{{ input.eventCode | downcase }}', 'ID');
    const first = t.render(ctx);
    for (let i = 0; i < 5000; i++) assert.equal(t.render(ctx), first);
  });
});

describe('A JSON object of templates (iUpdate QueryParameters)', () => {
  it('renders each string value as a template and sends other values as written', () => {
    const render = compileJsonTemplate(
      '{"ID": "{{ input.memberId }}", "Limit": 10, "All": true}',
      'QueryParameters',
    );
    assert.deepEqual(render(ctx), { ID: '12345', Limit: 10, All: true });
  });

  it('is no object at all for blank text', () => {
    assert.equal(compileJsonTemplate('  ', 'QueryParameters')(ctx), undefined);
  });

  it('refuses text that is not JSON, not an object, or holds a broken template, naming the field', () => {
    assert.throws(
      () => compileJsonTemplate('{"ID": ', 'QueryParameters of Nightly'),
      (err: Error) =>
        err instanceof TemplateError && /QueryParameters of Nightly.*not JSON/.test(err.message),
    );
    assert.throws(() => compileJsonTemplate('[1]', 'QueryParameters'), /must be a JSON object/);
    assert.throws(
      () => compileJsonTemplate('{"ID": "{{ input.memberId "}', 'QueryParameters'),
      (err: Error) => err instanceof TemplateError && /QueryParameters\.ID/.test(err.message),
    );
  });
});
