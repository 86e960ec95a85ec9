import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Validator, validateCompose, formatSchemaError } from './schema';

test('Validator: types, required, enum, patterns, additional properties, refs, oneOf', () => {
  const v = new Validator({
    type: 'object',
    required: ['name'],
    properties: { name: { type: 'string', pattern: '^[a-z]+$' }, mode: { enum: ['a', 'b'] }, n: { type: 'integer', minimum: 1 }, x: { $ref: '#/definitions/sl' } },
    patternProperties: { '^x-': {} },
    additionalProperties: false,
    definitions: { sl: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] } },
  });
  assert.deepEqual(v.validate({ name: 'ok', mode: 'a', n: 2, x: ['a'], 'x-ext': 5 }), []);
  const msgs = (val: unknown): string[] => v.validate(val).map((e) => `${e.path.join('.')}: ${e.message}`);
  assert.deepEqual(msgs({}), [": missing required property 'name'"]);
  assert.deepEqual(msgs({ name: 'A1' }), ['name: "A1" does not match "^[a-z]+$"']);
  assert.deepEqual(msgs({ name: 'a', mode: 'c' }), ['mode: must be one of: "a", "b"']);
  assert.deepEqual(msgs({ name: 'a', n: 0 }), ['n: must be >= 1']);
  assert.deepEqual(msgs({ name: 'a', n: 1.5 }), ['n: must be an integer']);
  assert.deepEqual(msgs({ name: 'a', other: 1 }), [": additional property 'other' is not allowed"]);
  assert.deepEqual(msgs({ name: 'a', x: 5 }), ['x: must be a string or an array']);
  assert.deepEqual(msgs({ name: 'a', x: ['a', 3] }), ['x.1: must be a string']);
});

test('validateCompose: the Compose Specification schema accepts a full file and names bad keys', () => {
  const good = {
    name: 'p',
    services: {
      web: {
        build: { context: '.', args: ['A=1'], target: 't' },
        ports: ['8080:80', { target: 81, published: '8081' }],
        environment: { A: 'x', B: null },
        depends_on: { db: { condition: 'service_healthy' } },
        healthcheck: { test: ['CMD', 'true'], interval: '1s', retries: 3 },
        deploy: { replicas: 2, resources: { limits: { memory: '64M', cpus: '0.5' } } },
        networks: { back: { aliases: ['w'] } },
        volumes: ['data:/data', { type: 'tmpfs', target: '/t' }],
        ulimits: { nofile: { soft: 10, hard: 20 } },
      },
      db: { image: 'busybox', profiles: ['x'] },
    },
    networks: { back: { driver: 'bridge' } },
    volumes: { data: { external: true } },
  };
  assert.deepEqual(validateCompose(good), []);
  const bad = validateCompose({ services: { web: { image: 'b', restart_policy: 'x', ports: 80, privileged: [] } } }).map((e) => formatSchemaError('c.yaml', e));
  assert.ok(bad.includes("validating c.yaml: services.web additional property 'restart_policy' is not allowed"), bad.join('\n'));
  assert.ok(bad.includes('validating c.yaml: services.web.ports must be an array'), bad.join('\n'));
  assert.ok(bad.some((m) => m.startsWith('validating c.yaml: services.web.privileged must be')), bad.join('\n'));
  assert.ok(validateCompose({ services: { web: { depends_on: { db: { condition: 'sometimes' } } } } }).some((e) => e.path.join('.') === 'services.web.depends_on.db.condition'));
});
