import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ociMount, ociTmpfsMounts, parseBind, parseMountSpec, parseVolumesFrom, planMounts, rootfsPropagation, validMountMode, apiMountPoint, type MountPoint } from './mounts';
import { buildSpec } from '../runtime/spec/spec';

const msg = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return '(no error)';
};

test('Binds: volume names, host paths, modes (moby ParseMountRaw)', () => {
  const v = parseBind('data:/srv/data/');
  assert.deepEqual(
    { Type: v.Type, Name: v.Name, Destination: v.Destination, RW: v.RW, Mode: v.Mode, CopyData: v.CopyData, Named: v.Named, Propagation: v.Propagation },
    { Type: 'volume', Name: 'data', Destination: '/srv/data', RW: true, Mode: '', CopyData: true, Named: true, Propagation: '' },
  );
  const ro = parseBind('data:/d:ro,nocopy');
  assert.equal(ro.RW, false);
  assert.equal(ro.CopyData, false);
  assert.equal(ro.Mode, 'ro,nocopy');
  const b = parseBind('/host//dir/:/c:ro,rslave');
  assert.deepEqual(
    { Type: b.Type, Source: b.Source, RW: b.RW, Propagation: b.Propagation, Mode: b.Mode, CreateSource: b.CreateSource, ExplicitPropagation: b.ExplicitPropagation },
    { Type: 'bind', Source: '/host/dir', RW: false, Propagation: 'rslave', Mode: 'ro,rslave', CreateSource: true, ExplicitPropagation: true },
  );
  assert.equal(parseBind('/h:/c').Propagation, 'rprivate');
  assert.equal(parseBind('/h:/c:z').Mode, 'z');
  const anon = parseBind('/just/a/path');
  assert.equal(anon.Type, 'volume');
  assert.equal(anon.Name, '');
  assert.equal(anon.Named, false);
  // A relative source names a volume: the volume driver rejects bad names later.
  assert.equal(parseBind('rel/path:/x').Name, 'rel/path');
});

test('Binds: Docker\'s errors', () => {
  assert.equal(msg(() => parseBind('v1:relative')), `invalid volume specification: 'v1:relative': invalid mount config for type "volume": invalid mount path: 'relative' mount path must be absolute`);
  assert.equal(msg(() => parseBind('v1:/')), `invalid volume specification: 'v1:/': invalid mount config for type "volume": invalid specification: destination can't be '/'`);
  assert.equal(msg(() => parseBind('v1:/x:bogus')), 'invalid mode: bogus');
  assert.equal(msg(() => parseBind('/x:/y:/z')), 'invalid mode: /z');
  assert.equal(msg(() => parseBind('/foo:rw')), "invalid volume specification: '/foo:rw'");
  assert.equal(msg(() => parseBind('a:b:c:d')), "invalid volume specification: 'a:b:c:d'");
  assert.equal(msg(() => parseBind(':/x')), "invalid volume specification: ':/x'");
  assert.equal(msg(() => parseBind('v1:/x:ro,rw')), 'invalid mode: ro,rw');
  assert.equal(
    msg(() => parseBind('named1:/x:rslave')),
    `invalid volume specification: 'named1:/x:rslave': invalid mount config for type "volume": field BindOptions must not be specified`,
  );
  assert.equal(
    msg(() => parseBind('/h:/x:nocopy')),
    `invalid volume specification: '/h:/x:nocopy': invalid mount config for type "bind": field VolumeOptions must not be specified`,
  );
});

test('mount modes: one of each kind', () => {
  for (const ok of ['', 'ro', 'rw', 'z', 'Z', 'ro,z,rslave,nocopy,cached']) assert.ok(validMountMode(ok), ok);
  for (const bad of ['ro,rw', 'z,Z', 'shared,slave', 'nocopy,nocopy', 'foo', 'ro,']) assert.ok(!validMountMode(bad), bad);
});

test('Mounts: types, options and Docker\'s errors (moby parseMountSpec)', () => {
  const exists = (p: string): boolean => p === '/exists';
  const opts = { bindSourceMustExist: true, exists };
  assert.equal(msg(() => parseMountSpec({ Type: 'bind', Source: '/x', Target: '/y' }, opts)), 'invalid mount config for type "bind": bind source path does not exist: /x');
  assert.equal(msg(() => parseMountSpec({ Type: 'bind', Target: '/y' }, opts)), 'invalid mount config for type "bind": field Source must not be empty');
  assert.equal(msg(() => parseMountSpec({ Type: 'volume', Target: '/x', ReadOnly: true }, opts)), 'invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes');
  assert.equal(msg(() => parseMountSpec({ Type: 'foo', Target: '/x' }, opts)), 'invalid mount config for type "foo": mount type unknown');
  assert.equal(msg(() => parseMountSpec({ Type: 'volume', Source: 'v' }, opts)), 'invalid mount config for type "volume": field Target must not be empty');
  assert.equal(msg(() => parseMountSpec({ Type: 'tmpfs', Source: 'x', Target: '/t' }, opts)), 'invalid mount config for type "tmpfs": field Source must not be specified');
  assert.equal(
    msg(() => parseMountSpec({ Type: 'bind', Source: '/exists', Target: '/y', BindOptions: { Propagation: 'weird' } }, opts)),
    'invalid mount config for type "bind": invalid propagation mode: weird',
  );
  const b = parseMountSpec({ Type: 'bind', Source: '/exists', Target: '/y', ReadOnly: true, BindOptions: { Propagation: 'shared' } }, opts);
  assert.deepEqual([b.Source, b.RW, b.Propagation, b.Mode, b.CreateSource], ['/exists', false, 'shared', '', undefined]);
  const v = parseMountSpec({ Type: 'volume', Source: 'v', Target: '/v', VolumeOptions: { NoCopy: true, Labels: { a: 'b' }, DriverConfig: { Options: { type: 'tmpfs' } } } }, opts);
  assert.deepEqual([v.Name, v.CopyData, v.Named, v.Create], ['v', false, true, { options: { type: 'tmpfs' }, labels: { a: 'b' } }]);
  const t = parseMountSpec({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 2 * 1024 * 1024, Mode: 0o1770 } }, opts);
  assert.equal(t.Data, 'mode=1770,size=2m');
});

test('volumes-from: container[:ro|rw]', () => {
  assert.deepEqual(parseVolumesFrom('c1'), { container: 'c1', mode: 'rw' });
  assert.deepEqual(parseVolumesFrom('c1:ro'), { container: 'c1', mode: 'ro' });
  assert.equal(msg(() => parseVolumesFrom('c1:rslave')), 'invalid mode: rslave');
  assert.equal(msg(() => parseVolumesFrom('c1:nocopy')), 'invalid mode: nocopy');
  assert.equal(msg(() => parseVolumesFrom('')), 'volumes-from specification cannot be an empty string');
});

const other: MountPoint[] = [
  { Type: 'volume', Name: 'shared', Source: '/vols/shared/_data', Destination: '/s', Driver: 'local', Mode: 'z', RW: true, Propagation: '', CopyData: true, Named: true },
  { Type: 'bind', Name: '', Source: '/h', Destination: '/b', Driver: '', Mode: '', RW: true, Propagation: 'rprivate', CopyData: false, Named: true },
];
const deps = { volumesFrom: (c: string) => (c === 'other' ? other : []), exists: () => true };

test('planMounts: order, overrides, duplicates, anonymous volumes left over', () => {
  const plan = planMounts(
    { VolumesFrom: ['other:ro'], Binds: ['x:/s', '/h2:/h2'], Mounts: [{ Type: 'volume', Target: '/m' }], Tmpfs: { '/t': 'size=1m' } },
    ['/data', '/s', '/t', 'rel'],
    deps,
  );
  // The bind replaces the volumes-from mount at /s; volumes-from mounts are read-only here.
  assert.deepEqual(plan.mounts.map((m) => [m.Destination, m.Type, m.Name || m.Source, m.RW, m.Mode]), [
    ['/s', 'volume', 'x', true, 'z'],
    ['/b', 'bind', '/h', false, ''],
    ['/h2', 'bind', '/h2', true, ''],
    ['/m', 'volume', '', true, 'z'],
  ]);
  assert.deepEqual(plan.anonymous, ['/data', '/rel']);
  const dup = (hc: Parameters<typeof planMounts>[0]): string => msg(() => planMounts(hc, [], deps));
  assert.equal(dup({ Binds: ['a1:/x', 'b1:/x/'] }), 'Duplicate mount point: /x');
  assert.equal(dup({ Binds: ['a1:/x'], Tmpfs: { '/x': '' } }), 'Duplicate mount point: /x');
  assert.equal(dup({ Binds: ['a1:/x'], Mounts: [{ Type: 'volume', Source: 'v', Target: '/x/' }] }), 'Duplicate mount point: /x/');
  assert.equal(dup({ Tmpfs: { rel: '' } }), "invalid mount path: 'rel' mount path must be absolute");
  assert.equal(dup({ Tmpfs: { '/t': 'foo=bar' } }), 'Invalid tmpfs option ["foo" "bar"]');
});

test('OCI mounts: binds with ro and propagation, volumes private, tmpfs with Docker\'s defaults', () => {
  assert.deepEqual(ociMount(other[1]), { destination: '/b', type: 'bind', source: '/h', options: ['rbind', 'rprivate'] });
  assert.deepEqual(ociMount({ ...other[0], RW: false }), { destination: '/s', type: 'bind', source: '/vols/shared/_data', options: ['rbind', 'ro', 'private'] });
  assert.deepEqual(ociMount({ ...other[0], Type: 'tmpfs', Data: 'ro,mode=700,size=1m' }).options, ['noexec', 'nosuid', 'nodev', 'rprivate', 'ro', 'mode=700', 'size=1m']);
  assert.deepEqual(ociTmpfsMounts({ '/scratch/': 'exec,size=64m,mode=1777' }), [
    { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'rprivate', 'exec', 'size=64m', 'mode=1777'] },
  ]);
  assert.equal(rootfsPropagation([other[1]]), undefined);
  assert.equal(rootfsPropagation([{ ...other[1], Propagation: 'rslave' }]), 'rslave');
  assert.equal(rootfsPropagation([{ ...other[1], Propagation: 'rslave' }, { ...other[1], Propagation: 'shared' }]), 'shared');
});

test('inspect MountPoint: Name and Driver only for volumes', () => {
  assert.deepEqual(apiMountPoint(other[1]), { Type: 'bind', Source: '/h', Destination: '/b', Mode: '', RW: true, Propagation: 'rprivate' });
  assert.deepEqual(Object.keys(apiMountPoint(other[0])), ['Type', 'Name', 'Source', 'Destination', 'Driver', 'Mode', 'RW', 'Propagation']);
});

test('spec: user mounts replace defaults on the same path and go in parents first', () => {
  const spec = buildSpec({
    id: 'x',
    rootfs: '/r',
    args: ['sh'],
    env: [],
    cwd: '/',
    uid: 0,
    gid: 0,
    additionalGids: [],
    hostname: 'h',
    tty: false,
    openStdin: false,
    etcFiles: { hosts: '/e/hosts', hostname: '/e/hostname', resolvConf: '/e/resolv.conf' },
    cgroupsPath: '/berth/x',
    networkNamespace: 'new',
    bounding: [],
    mounts: [
      { destination: '/a/b/c', type: 'bind', source: '/v2', options: ['rbind'] },
      { destination: '/etc/hosts', type: 'bind', source: '/mine', options: ['rbind'] },
      { destination: '/a', type: 'bind', source: '/v1', options: ['rbind'] },
    ],
    rootfsPropagation: 'rslave',
  });
  const dests = spec.mounts.map((m) => m.destination);
  assert.equal(dests.filter((d) => d === '/etc/hosts').length, 1);
  assert.equal(spec.mounts.find((m) => m.destination === '/etc/hosts')?.source, '/mine');
  assert.ok(dests.indexOf('/a') < dests.indexOf('/a/b/c'));
  assert.equal(spec.linux.rootfsPropagation, 'rslave');
});
