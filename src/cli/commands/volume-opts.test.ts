import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags } from '../flags';
import { CONTAINER_FLAGS, buildCreateRequest, OptionError, type OptsEnv } from './container-opts';
import { parseCsvRecord, parseMountFlag, parseVolumeSpec, tmpfsOptions, volumeOptions } from './volume-opts';
import { naturalLess, volumeFormat } from './volume';

const io: OptsEnv = { readFile: () => '', env: {} };

test('-v: compose volume syntax', () => {
  assert.deepEqual(parseVolumeSpec('/data'), { type: 'volume', source: '', target: '/data', readOnly: false });
  assert.deepEqual(parseVolumeSpec('data:/d:ro'), { type: 'volume', source: 'data', target: '/d', readOnly: true });
  assert.deepEqual(parseVolumeSpec('/h:/c:rw,rslave'), { type: 'bind', source: '/h', target: '/c', readOnly: false });
  assert.deepEqual(parseVolumeSpec('./rel:/c'), { type: 'bind', source: './rel', target: '/c', readOnly: false });
  assert.deepEqual(parseVolumeSpec('~/x:/c'), { type: 'bind', source: '~/x', target: '/c', readOnly: false });
  assert.deepEqual(parseVolumeSpec('rel/path:/c'), { type: 'volume', source: 'rel/path', target: '/c', readOnly: false });
  assert.deepEqual(parseVolumeSpec('/x'), { type: 'volume', source: '', target: '/x', readOnly: false });
  assert.throws(() => parseVolumeSpec('ab::b'), { message: 'invalid spec: ab::b: empty section between colons' });
  assert.throws(() => parseVolumeSpec('ab:/b:ro:x'), { message: 'invalid spec: ab:/b:ro:x: too many colons' });
  assert.throws(() => parseVolumeSpec(''), { message: 'invalid empty volume spec' });
});

test('-v: binds (./ made absolute) and anonymous volumes, as docker splits them', () => {
  assert.deepEqual(volumeOptions(['data:/d', '/anon', '/h:/c:ro', './rel:/r:ro', 'data:/d'], '/work'), {
    binds: ['data:/d', '/h:/c:ro', '/work/rel:/r:ro'],
    volumes: { '/anon': {} },
  });
});

test('--mount: docker\'s CSV fields', () => {
  assert.deepEqual(parseMountFlag('type=bind,source=/src,target=/dst,readonly,bind-propagation=rshared'), {
    Type: 'bind',
    Source: '/src',
    Target: '/dst',
    ReadOnly: true,
    BindOptions: { Propagation: 'rshared' },
  });
  assert.deepEqual(parseMountFlag('src=vol,dst=/v,volume-nocopy,volume-label=a=b,volume-opt=type=tmpfs,volume-driver=local'), {
    Type: 'volume',
    Source: 'vol',
    Target: '/v',
    VolumeOptions: { NoCopy: true, Labels: { a: 'b' }, DriverConfig: { Name: 'local', Options: { type: 'tmpfs' } } },
  });
  assert.deepEqual(parseMountFlag('type=volume,src=named3,dst=/m1,volume-nocopy'), {
    Type: 'volume',
    Source: 'named3',
    Target: '/m1',
    VolumeOptions: { NoCopy: true, DriverConfig: {} },
  });
  assert.deepEqual(parseMountFlag('type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770,ro=false'), {
    Type: 'tmpfs',
    Target: '/t',
    ReadOnly: false,
    TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1770 },
  });
  assert.deepEqual(parseMountFlag('type=bind,src=.,dst=/x', '/here'), { Type: 'bind', Source: '/here', Target: '/x' });
  assert.deepEqual(parseMountFlag('"type=volume","dst=/a,b"'), { Type: 'volume', Target: '/a,b' });
  const bad: [string, string][] = [
    ['type=bind,src=/a', 'target is required'],
    ['type=,dst=/a', 'type is required'],
    ['type=bind,dst=/a,foo', "invalid field 'foo' must be a key=value pair"],
    ['type=bind,dst=/a,foo=1', "unexpected key 'foo' in 'foo=1'"],
    ['type=bind,dst=/a,readonly=maybe', 'invalid value for readonly: maybe'],
    ['type=bind,dst=/a,volume-nocopy', "cannot mix 'volume-*' options with mount type 'bind'"],
    ['type=volume,dst=/a,bind-propagation=shared', "cannot mix 'bind-*' options with mount type 'volume'"],
    ['type=volume,dst=/a,tmpfs-size=1m', "cannot mix 'tmpfs-*' options with mount type 'volume'"],
    ['type=tmpfs,dst=/a,tmpfs-size=lots', 'invalid value for tmpfs-size: lots'],
    ['type=tmpfs,dst=/a,tmpfs-mode=999', 'invalid value for tmpfs-mode: 999'],
  ];
  for (const [v, m] of bad) assert.throws(() => parseMountFlag(v), { message: m }, v);
  assert.deepEqual(parseCsvRecord('a,"b,c",,"d""e"'), ['a', 'b,c', '', 'd"e']);
});

test('--tmpfs: /path[:options]', () => {
  assert.deepEqual(tmpfsOptions(['/a', '/b:size=1m,mode=700']), { '/a': '', '/b': 'size=1m,mode=700' });
});

test('run flags → the create body docker sends', () => {
  const f = parseFlags(
    ['-v', 'data:/d', '-v', '/anon', '--mount', 'type=tmpfs,dst=/t', '--tmpfs', '/s:size=1m', '--volumes-from', 'other:ro', '--volume-driver', 'local', 'busybox'],
    CONTAINER_FLAGS,
    { interspersed: false },
  );
  const r = buildCreateRequest(f, f.args, true, io);
  assert.deepEqual((r.body as Record<string, unknown>).Volumes, { '/anon': {} });
  // Only the mount fields are this test's concern (other flag groups add their own defaults).
  const { Binds, Mounts, Tmpfs, VolumesFrom, VolumeDriver } = r.body.HostConfig as Record<string, unknown>;
  assert.deepEqual({ Binds, Mounts, Tmpfs, VolumesFrom, VolumeDriver }, {
    Binds: ['data:/d'],
    Mounts: [{ Type: 'tmpfs', Target: '/t' }],
    Tmpfs: { '/s': 'size=1m' },
    VolumesFrom: ['other:ro'],
    VolumeDriver: 'local',
  });
  // A bad --mount is a flag error (exit 125 with the usage), as pflag reports it.
  assert.throws(() => parseFlags(['--mount', 'type=bind', 'busybox'], CONTAINER_FLAGS, { interspersed: false }), {
    message: 'invalid argument "type=bind" for "--mount" flag: target is required',
  });
  const g = parseFlags(['-v', 'ab::b', 'busybox'], CONTAINER_FLAGS, { interspersed: false });
  assert.throws(() => buildCreateRequest(g, g.args, true, io), (e: unknown) => e instanceof OptionError && e.message === 'invalid spec: ab::b: empty section between colons');
});

test('volume ls: natural order of names, default formats', () => {
  const names = ['95fe', 'd32f', '9602', 'foo', '317330', 'a10', 'a9', 'a09', 'named1'];
  names.sort((a, b) => (naturalLess(a, b) ? -1 : naturalLess(b, a) ? 1 : 0));
  assert.deepEqual(names, ['95fe', '9602', '317330', 'a9', 'a09', 'a10', 'd32f', 'foo', 'named1']);
  assert.equal(volumeFormat('', false), 'table {{.Driver}}\t{{.Name}}');
  assert.equal(volumeFormat('', true), '{{.Name}}');
  assert.equal(volumeFormat('{{.Name}}', true), '{{.Name}}');
});
