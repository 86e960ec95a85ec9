import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb } from '../daemon/db';
import { ANONYMOUS_LABEL, VolumeService, rfc3339, validateOptions } from './local';
import { BerthError } from '../core/errors';

function service(refs: Record<string, string[]> = {}): { V: VolumeService; root: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-vol-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'volumes');
  const V = new VolumeService(openDb(path.join(dir, 'db')), {
    root,
    references: (n) => refs[n] ?? [],
    referenced: () => new Set(Object.keys(refs).filter((k) => refs[k].length)),
  });
  return { V, root };
}

const err = (fn: () => unknown): { kind: string; message: string } => {
  try {
    fn();
  } catch (e) {
    return { kind: (e as BerthError).kind, message: (e as Error).message };
  }
  return { kind: 'none', message: '' };
};

test('create: named, anonymous, existing; Docker\'s JSON', () => {
  const { V, root } = service();
  const v = V.create({ name: 'data', labels: { a: 'b' } });
  assert.ok(fs.statSync(path.join(root, 'data', '_data')).isDirectory());
  const api = V.toApi(v);
  assert.deepEqual(Object.keys(api), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
  assert.deepEqual({ ...api, CreatedAt: '' }, { CreatedAt: '', Driver: 'local', Labels: { a: 'b' }, Mountpoint: path.join(root, 'data', '_data'), Name: 'data', Options: null, Scope: 'local' });
  assert.match(api.CreatedAt as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
  // Again: the existing volume, whatever the request says.
  assert.deepEqual(V.create({ name: 'data', labels: { c: 'd' } }).labels, { a: 'b' });
  const anon = V.create({});
  assert.match(anon.name, /^[0-9a-f]{64}$/);
  assert.deepEqual(anon.labels, { [ANONYMOUS_LABEL]: '' });
  assert.equal(V.create({ name: 'ee', labels: {}, options: {} }).labels, null);
});

test('create: Docker\'s errors', () => {
  const { V } = service();
  assert.deepEqual(err(() => V.create({ name: 'a b' })), {
    kind: 'invalid-argument',
    message: 'create a b: "a b" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path',
  });
  assert.deepEqual(err(() => V.create({ name: 'a' })), { kind: 'invalid-argument', message: 'create a: volume name is too short, names should be at least two alphanumeric characters' });
  assert.deepEqual(err(() => V.create({ name: 'v1', driver: 'foo' })), { kind: 'not-found', message: 'create v1: error looking up volume plugin foo: plugin "foo" not found' });
  assert.deepEqual(err(() => V.create({ name: 't2', options: { foo: 'bar' } })), { kind: 'invalid-argument', message: 'create t2: invalid option: "foo"' });
  assert.deepEqual(err(() => V.create({ name: 't4', options: { o: 'size=10m' } })), { kind: 'invalid-argument', message: 'create t4: missing required option: "device"' });
  assert.doesNotThrow(() => validateOptions({ type: 'tmpfs', device: 'tmpfs', o: 'size=10m' }));
  assert.doesNotThrow(() => validateOptions({ type: 'none', device: '/nonexistent', o: 'bind' }));
});

test('remove: in use by any container, missing, force', () => {
  const { V, root } = service({ busy: ['c1', 'c2'] });
  V.create({ name: 'busy' });
  V.create({ name: 'free' });
  assert.deepEqual(err(() => V.remove('busy')), { kind: 'conflict', message: 'remove busy: volume is in use - [c1, c2]' });
  assert.deepEqual(err(() => V.remove('busy', true)), { kind: 'conflict', message: 'remove busy: volume is in use - [c1, c2]' });
  assert.deepEqual(err(() => V.remove('nope')), { kind: 'not-found', message: 'get nope: no such volume' });
  assert.doesNotThrow(() => V.remove('nope', true));
  V.remove('free');
  assert.equal(fs.existsSync(path.join(root, 'free')), false);
  assert.equal(V.tryGet('free'), undefined);
});

test('list filters: dangling, name (regexp), driver, label; errors', () => {
  const { V } = service({ used: ['c1'] });
  V.create({ name: 'used', labels: { tier: 'db' } });
  V.create({ name: 'spare', labels: { tier: 'web', keep: '' } });
  const names = (f: Record<string, string[]>): string[] => V.list(f).map((v) => v.name);
  assert.deepEqual(names({}), ['spare', 'used']);
  assert.deepEqual(names({ dangling: ['true'] }), ['spare']);
  assert.deepEqual(names({ dangling: ['0'] }), ['used']);
  assert.deepEqual(names({ name: ['^us'] }), ['used']);
  assert.deepEqual(names({ name: ['a'] }), ['spare']);
  assert.deepEqual(names({ driver: ['local'] }), ['spare', 'used']);
  assert.deepEqual(names({ driver: ['loc'] }), []);
  assert.deepEqual(names({ label: ['tier=db'] }), ['used']);
  assert.deepEqual(names({ label: ['keep', 'tier'] }), ['spare']);
  assert.equal(err(() => V.list({ foo: ['x'] })).message, "invalid filter 'foo'");
  assert.equal(err(() => V.list({ dangling: ['x'] })).message, "invalid filter 'dangling=[x]'");
});

test('prune: before API 1.42 every unused volume, from 1.42 anonymous ones unless all=true', () => {
  const setup = (): VolumeService => {
    const { V } = service({ used: ['c1'] });
    V.create({ name: 'used' });
    V.create({ name: 'named', labels: { keep: 'yes' } });
    V.create({ name: 'withopts', options: { type: 'tmpfs', device: 'tmpfs' } });
    V.create({});
    return V;
  };
  let V = setup();
  let r = V.prune({}, '1.41');
  assert.equal(r.VolumesDeleted.length, 2);
  assert.ok(r.VolumesDeleted.includes('named'));
  assert.deepEqual(V.all().map((v) => v.name).sort(), ['used', 'withopts']);
  V = setup();
  r = V.prune({}, '1.42');
  assert.equal(r.VolumesDeleted.length, 1);
  assert.match(r.VolumesDeleted[0], /^[0-9a-f]{64}$/);
  V = setup();
  assert.deepEqual(V.prune({ all: ['true'], 'label!': ['keep=yes'] }, '1.43').VolumesDeleted.length, 1);
  assert.deepEqual(V.prune({ all: ['1'], label: ['keep'] }, '1.43').VolumesDeleted, ['named']);
  assert.equal(err(() => V.prune({ all: ['x'] }, '1.43')).message, 'invalid filter \'all\': strconv.ParseBool: parsing "x": invalid syntax');
  assert.equal(err(() => V.prune({ dangling: ['true'] }, '1.43')).message, "invalid filter 'dangling'");
});

test('CreatedAt is RFC 3339 in seconds', () => {
  if (new Date().getTimezoneOffset() === 0) assert.equal(rfc3339('2024-05-06T07:08:09.123Z'), '2024-05-06T07:08:09Z');
});
