import assert from 'node:assert/strict';
import {
  compileSchema,
  generateSchema,
  SchemaCompileError,
  SchemaValidationError,
  validateAgainst,
  type Violation,
} from '../../src/core/schema.js';

// Seed 001, "Step 4: Add the JSON Schema Validation action".
const checkInSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: {
    memberId: { type: 'string' },
    eventCode: { type: 'string' },
    checkInTime: { type: 'string', format: 'date-time' },
    sessionCode: { type: 'string' },
  },
  required: ['memberId', 'eventCode', 'checkInTime'],
};

// Seed 001, "What the external system sends".
const checkIn = {
  memberId: '12345',
  eventCode: 'CONF2026',
  checkInTime: '2026-05-27T09:15:00',
  sessionCode: 'KEYNOTE',
};

function without(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...obj };
  delete copy[key];
  return copy;
}

function withoutMemberId(): Record<string, unknown> {
  return without(checkIn, 'memberId');
}

function paths(violations: Violation[]): string[] {
  return violations.map((v) => v.path);
}

describe('core/schema', () => {
  it("accepts iHook's example check-in payload against its draft-07 schema (docs/idms.md §iHook workflow)", () => {
    assert.deepEqual(validateAgainst(checkInSchema, checkIn), []);
    assert.deepEqual(validateAgainst(JSON.stringify(checkInSchema), checkIn), []);
  });

  it('reports a missing memberId at /memberId', () => {
    const violations = validateAgainst(checkInSchema, withoutMemberId());
    assert.deepEqual(violations, [
      { path: '/memberId', message: "must have required property 'memberId'", keyword: 'required' },
    ]);
  });

  it("reports checkInTime 'not-a-date' as a date-time format violation at /checkInTime", () => {
    const violations = validateAgainst(checkInSchema, { ...checkIn, checkInTime: 'not-a-date' });
    assert.equal(violations.length, 1);
    assert.equal(violations[0].path, '/checkInTime');
    assert.equal(violations[0].keyword, 'format');
    assert.match(violations[0].message, /date-time/);
  });

  it('accepts date-times with or without a time zone, and rejects impossible ones', () => {
    const validate = compileSchema({ type: 'string', format: 'date-time' });
    for (const ok of ['2026-05-27T09:15:00', '2026-05-27T09:15:00Z', '2026-05-27T09:15:00.123+02:00']) {
      assert.deepEqual(validate(ok), [], ok);
    }
    for (const bad of ['not-a-date', '2026-13-27T09:15:00', '2026-05-27', '2026-05-27T25:00:00']) {
      assert.equal(validate(bad).length, 1, bad);
    }
  });

  it('supports other formats from ajv-formats (email, uri, uuid, date)', () => {
    const schema = {
      type: 'object',
      properties: {
        email: { format: 'email' },
        site: { format: 'uri' },
        id: { format: 'uuid' },
        day: { format: 'date' },
      },
    };
    const good = {
      email: 'a@example.org',
      site: 'https://example.org/x',
      id: '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
      day: '2026-05-27',
    };
    assert.deepEqual(validateAgainst(schema, good), []);
    const bad = { email: 'nope', site: 'not a uri', id: '123', day: '2026-02-30' };
    assert.deepEqual(paths(validateAgainst(schema, bad)).sort(), ['/day', '/email', '/id', '/site']);
  });

  it('validates draft-04 schemas, including the boolean exclusiveMinimum', () => {
    const schema = {
      $schema: 'http://json-schema.org/draft-04/schema#',
      type: 'object',
      properties: { quantity: { type: 'number', minimum: 0, exclusiveMinimum: true } },
      required: ['quantity'],
    };
    assert.deepEqual(validateAgainst(schema, { quantity: 1 }), []);
    const violations = validateAgainst(schema, { quantity: 0 });
    assert.deepEqual(paths(violations), ['/quantity']);
    assert.equal(violations[0].keyword, 'minimum');
    // The same schema under draft-07 rules is invalid: exclusiveMinimum must be a number there.
    assert.throws(() => compileSchema(without(schema, '$schema')), SchemaCompileError);
  });

  it('validates 2020-12 schemas with prefixItems', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'array',
      prefixItems: [{ type: 'string' }, { type: 'integer' }],
      items: false,
    };
    assert.deepEqual(validateAgainst(schema, ['CONF2026', 3]), []);
    assert.deepEqual(paths(validateAgainst(schema, ['CONF2026', 'three'])), ['/1']);
    assert.equal(validateAgainst(schema, ['CONF2026', 3, 'extra']).length, 1);
  });

  it('validates 2019-09 schemas', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2019-09/schema',
      type: 'object',
      dependentRequired: { sessionCode: ['eventCode'] },
    };
    assert.deepEqual(validateAgainst(schema, { sessionCode: 'K', eventCode: 'E' }), []);
    assert.deepEqual(paths(validateAgainst(schema, { sessionCode: 'K' })), ['/eventCode']);
  });

  it('throws SchemaCompileError with a clear message for an unusable schema', () => {
    const cases: [unknown, RegExp][] = [
      [{ type: 'strin' }, /Invalid JSON Schema/],
      ['{ "type": ', /not valid JSON/],
      ['', /empty/],
      [42, /must be a JSON object/],
      [[{ type: 'string' }], /must be a JSON object/],
      [{ $schema: 'http://example.com/my-schema' }, /Unsupported "\$schema"/],
      [{ $ref: '#/definitions/missing' }, /can't resolve reference/],
    ];
    for (const [schema, message] of cases) {
      assert.throws(
        () => compileSchema(schema),
        (err: unknown) => err instanceof SchemaCompileError && message.test(err.message),
        String(message),
      );
    }
  });

  it('returns the same cached validator for equal schemas, whatever the key order or form', () => {
    const a = compileSchema(checkInSchema);
    const reordered = {
      required: checkInSchema.required,
      properties: checkInSchema.properties,
      type: 'object',
    };
    const b = compileSchema({ ...reordered, $schema: checkInSchema.$schema });
    const c = compileSchema(JSON.stringify(checkInSchema, null, 2));
    assert.equal(a, b);
    assert.equal(a, c);
    assert.notEqual(a, compileSchema({ ...checkInSchema, required: ['memberId'] }));
  });

  it('compiles different schemas that share an $id', () => {
    const one = compileSchema({ $id: 'https://example.org/checkin', type: 'string' });
    const two = compileSchema({ $id: 'https://example.org/checkin', type: 'number' });
    assert.deepEqual(one('x'), []);
    assert.deepEqual(two(3), []);
    assert.equal(two('x').length, 1);
  });

  it('validates recursive schemas: "$ref": "#" and a $ref to the schema\'s own $id (issue 19)', () => {
    const tree = {
      type: 'object',
      properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } },
      additionalProperties: false,
    };
    const validate = compileSchema(tree);
    assert.deepEqual(validate({ name: 'a', children: [{ name: 'b', children: [{ name: 'c' }] }] }), []);
    assert.deepEqual(paths(validate({ children: [{ children: [{ name: 3 }] }] })), [
      '/children/0/children/0/name',
    ]);
    const byId = compileSchema({
      ...tree,
      $id: 'https://example.org/tree',
      properties: { next: { $ref: 'https://example.org/tree' } },
    });
    assert.deepEqual(byId({ next: { next: {} } }), []);
    assert.equal(byId({ next: { next: { other: 1 } } }).length, 1);
  });

  it('counts only a payload\'s own properties: {} lacks "constructor" and "toString" (issue 19)', () => {
    const validate = compileSchema({ required: ['__proto__', 'constructor', 'toString'] });
    assert.deepEqual(paths(validate({})).sort(), ['/__proto__', '/constructor', '/toString']);
    assert.deepEqual(validate(JSON.parse('{"__proto__": 1, "constructor": 2, "toString": 3}')), []);
    const typed = compileSchema({ properties: { constructor: { type: 'number' } } });
    assert.deepEqual(typed({}), []);
    assert.deepEqual(paths(typed({ constructor: 'x' })), ['/constructor']);
  });

  it('ignores the keywords beside a $ref in draft-04 and draft-07, and applies them from 2019-09 on (issue 19)', () => {
    const schema = {
      definitions: { any: {} },
      $defs: { any: {} },
      properties: { code: { $ref: '#/definitions/any', type: 'number' } },
    };
    for (const draft of ['draft-04', 'draft-07'] as const) {
      assert.deepEqual(validateAgainst(schema, { code: 'x' }, { draft }), [], draft);
    }
    for (const draft of ['2019-09', '2020-12'] as const) {
      assert.deepEqual(paths(validateAgainst(schema, { code: 'x' }, { draft })), ['/code'], draft);
    }
  });

  it('validates by a fixed draft, and refuses a schema whose $schema names another', () => {
    const schema = { type: 'number', minimum: 0, exclusiveMinimum: true };
    assert.equal(validateAgainst(schema, 0, { draft: 'draft-04' }).length, 1);
    assert.throws(
      () => compileSchema(schema),
      /Invalid JSON Schema \(draft-07\) at \/exclusiveMinimum: must be number/,
    );
    assert.throws(
      () => compileSchema({ $schema: 'http://json-schema.org/draft-04/schema#' }, { draft: '2020-12' }),
      /"\$schema" is draft-04 but the node validates by 2020-12/,
    );
    assert.deepEqual(
      validateAgainst({ $schema: 'https://json-schema.org/draft/2020-12/schema' }, 1, { draft: '2020-12' }),
      [],
    );
  });

  it('resolves a $ref to another document only from the resources given, never over the network', () => {
    const schema = { $ref: 'https://example.org/defs.json#/$defs/code' };
    assert.throws(
      () => compileSchema(schema),
      (err: unknown) =>
        err instanceof SchemaCompileError && /at \/: can't resolve reference/.test(err.message),
    );
    const resources = {
      'https://example.org/defs.json': { $defs: { code: { type: 'string', minLength: 3 } } },
    };
    const validate = compileSchema(schema, { resources });
    assert.deepEqual(validate('CONF'), []);
    assert.equal(validate('C').length, 1);
    assert.throws(() => compileSchema(schema), /can't resolve reference/, 'the resources are not kept');
  });

  it('names the schema path of what cannot compile', () => {
    const cases: [unknown, RegExp][] = [
      [
        { properties: { checkInTime: { type: 'date' } } },
        /at \/properties\/checkInTime\/type: must be equal to one of the allowed values/,
      ],
      [
        { properties: { code: { type: 'string', pattern: '(' } } },
        /at \/properties\/code\/pattern: Invalid regular expression/,
      ],
      [
        { properties: { code: { $ref: '#/definitions/nope' } } },
        /at \/properties\/code: can't resolve reference #\/definitions\/nope/,
      ],
    ];
    for (const [schema, message] of cases) assert.throws(() => compileSchema(schema), message);
  });

  it("keeps schemas apart that share a nested $id, or take a meta-schema's $id", () => {
    const nested = (type: string) => ({ properties: { a: { $id: 'https://example.org/a', type } } });
    assert.deepEqual(compileSchema(nested('string'))({ a: 'x' }), []);
    assert.deepEqual(compileSchema(nested('number'))({ a: 1 }), []);
    assert.throws(
      () => compileSchema({ $id: 'http://json-schema.org/draft-07/schema#', type: 'string' }),
      SchemaCompileError,
    );
    assert.deepEqual(validateAgainst({ type: 'string' }, 'still validates'), []);
  });

  it('lists every violation at once (allErrors) and formats them in SchemaValidationError', () => {
    const violations = validateAgainst(checkInSchema, {
      eventCode: 42,
      checkInTime: 'not-a-date',
      sessionCode: 'KEYNOTE',
    });
    assert.deepEqual(paths(violations).sort(), ['/checkInTime', '/eventCode', '/memberId']);
    const err = new SchemaValidationError(
      validateAgainst(checkInSchema, { ...withoutMemberId(), checkInTime: 'x' }),
    );
    assert.ok(err instanceof Error);
    assert.equal(
      err.message,
      'Payload failed schema validation: /memberId: is required; /checkInTime: must match format "date-time"',
    );
    assert.equal(err.violations.length, 2);
  });

  it('names the root as "/" and lists allowed enum values', () => {
    const violations = validateAgainst({ enum: ['A', 'B'] }, 'C');
    assert.deepEqual(violations, [
      { path: '/', message: 'must be equal to one of the allowed values: "A", "B"', keyword: 'enum' },
    ]);
  });

  it('generates a schema from the check-in sample that accepts it and rejects it without memberId', () => {
    const schema = generateSchema(checkIn);
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.equal(schema.type, 'object');
    assert.deepEqual(schema.required, ['memberId', 'eventCode', 'checkInTime', 'sessionCode']);
    assert.deepEqual((schema.properties as Record<string, unknown>).checkInTime, {
      type: 'string',
      format: 'date-time',
    });
    assert.deepEqual(validateAgainst(schema, checkIn), []);
    assert.deepEqual(paths(validateAgainst(schema, withoutMemberId())), ['/memberId']);
    assert.equal(generateSchema(checkIn, { required: false }).required, undefined);
  });

  it('generates types, formats and merged array items, valid under each draft', () => {
    const sample = {
      count: 3,
      ratio: 0.5,
      ok: true,
      none: null,
      email: 'a@example.org',
      site: 'https://example.org',
      day: '2026-05-27',
      tags: ['a', 'b'],
      lines: [
        { sku: 'X', qty: 1 },
        { sku: 'Y', qty: 2.5, note: 'n' },
      ],
      empty: [],
    };
    const schema = generateSchema(sample);
    const props = schema.properties as Record<string, Record<string, unknown>>;
    assert.equal(props.count.type, 'integer');
    assert.equal(props.ratio.type, 'number');
    assert.equal(props.ok.type, 'boolean');
    assert.equal(props.none.type, 'null');
    assert.equal(props.email.format, 'email');
    assert.equal(props.site.format, 'uri');
    assert.equal(props.day.format, 'date');
    assert.deepEqual(props.tags.items, { type: 'string' });
    assert.deepEqual(props.lines.items, {
      type: 'object',
      properties: { sku: { type: 'string' }, qty: { type: 'number' }, note: { type: 'string' } },
      required: ['sku', 'qty'],
    });
    assert.deepEqual(props.empty, { type: 'array' });
    for (const draft of ['draft-04', 'draft-07', '2019-09', '2020-12'] as const) {
      const generated = generateSchema(sample, { draft });
      assert.deepEqual(validateAgainst(generated, sample), [], draft);
      assert.equal(validateAgainst(generated, { ...sample, count: 'three' }).length, 1, draft);
    }
    assert.equal(
      generateSchema(sample, { draft: '2020-12' }).$schema,
      'https://json-schema.org/draft/2020-12/schema',
    );
  });
});
