import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSpec } from './spec';
import { INIT_PATH } from './extras';
import { testSpecInput } from './test-input';
import { ociRlimits } from './resources';

const base = testSpecInput({ args: ['sh', '-c', 'true'] });
const types = (s: ReturnType<typeof buildSpec>): string[] => (s.linux.namespaces as { type: string }[]).map((n) => n.type);

test('namespace modes: host removes the namespace, container:<id> joins by path, cgroupns private adds one', () => {
  const s = buildSpec({ ...base, extras: { pid: 'host', ipc: 'host', ipcShm: '/dev/shm', uts: 'host', cgroupns: 'private' } });
  assert.deepEqual(types(s), ['mount', 'network', 'cgroup']);
  assert.equal(s.hostname, undefined, 'no hostname without a UTS namespace');
  assert.deepEqual(s.mounts.find((m) => m.destination === '/dev/shm'), { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] });
  const j = buildSpec({ ...base, extras: { pid: { path: '/proc/42/ns/pid' }, ipc: { path: '/proc/42/ns/ipc' } } });
  const ns = j.linux.namespaces as { type: string; path?: string }[];
  assert.deepEqual(ns.find((n) => n.type === 'pid'), { type: 'pid', path: '/proc/42/ns/pid' });
  assert.deepEqual(ns.find((n) => n.type === 'ipc'), { type: 'ipc', path: '/proc/42/ns/ipc' });
  const none = buildSpec({ ...base, extras: { ipc: 'none' } });
  assert.ok(types(none).includes('ipc'));
  assert.equal(none.mounts.find((m) => m.destination === '/dev/shm'), undefined);
});

test('--init wraps the command and mounts the binary read-only; resources, devices, rlimits, sysctls land in the spec', () => {
  const s = buildSpec({
    ...base,
    extras: {
      init: '/usr/bin/tini-static',
      resources: { memory: { limit: 1 << 25, swap: 1 << 26 }, pids: { limit: 20 } },
      deviceRules: [{ allow: true, type: 'c', major: 10, minor: 237, access: 'rwm' }],
      devices: [{ path: '/dev/xnull', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 }],
      rlimits: ociRlimits([{ Name: 'nofile', Soft: 100, Hard: 200 }]),
      sysctl: { 'net.ipv4.ip_forward': '1' },
      maskedPaths: [],
    },
  });
  assert.deepEqual(s.process.args, [INIT_PATH, '--', 'sh', '-c', 'true']);
  assert.deepEqual(s.mounts.at(-1), { destination: INIT_PATH, type: 'bind', source: '/usr/bin/tini-static', options: ['rbind', 'ro', 'rprivate'] });
  const res = s.linux.resources as { memory: unknown; pids: unknown; devices: { major?: number }[] };
  assert.deepEqual(res.memory, { limit: 1 << 25, swap: 1 << 26 });
  assert.deepEqual(res.pids, { limit: 20 });
  assert.equal(res.devices.at(-1)?.major, 10, 'extra rules come after the defaults (the deny-all first)');
  assert.equal((s.linux.devices as { path: string }[])[0].path, '/dev/xnull');
  assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }]);
  assert.deepEqual(s.linux.sysctl, { 'net.ipv4.ip_forward': '1' });
  assert.deepEqual(s.linux.maskedPaths, []);
  assert.ok((s.linux.readonlyPaths as string[]).length > 0, 'readonly paths keep their default');
});
