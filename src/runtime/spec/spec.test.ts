import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSpec, mergeEnv, MASKED_PATHS, parseSecurityOpts } from './spec';
import { DEFAULT_CAPABILITIES } from './capabilities';
import { testSpecInput } from './test-input';
import { resolvConf } from '../../daemon/containers';

const base = testSpecInput({ bounding: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN', 'CAP_NET_ADMIN'] });

test("default spec: Docker's namespaces, capabilities, masked paths and mounts", () => {
  const s = buildSpec(base);
  assert.deepEqual((s.linux.namespaces as { type: string }[]).map((n) => n.type), ['pid', 'ipc', 'uts', 'mount', 'network']);
  const caps = (s.process.capabilities as { bounding: string[] }).bounding;
  assert.deepEqual([...caps].sort(), [...DEFAULT_CAPABILITIES].sort());
  assert.deepEqual(s.linux.maskedPaths, MASKED_PATHS);
  assert.ok((s.linux.readonlyPaths as string[]).includes('/proc/sys'));
  assert.ok(s.linux.seccomp, 'seccomp profile present');
  assert.deepEqual(
    s.mounts.map((m) => m.destination),
    ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm', '/etc/resolv.conf', '/etc/hostname', '/etc/hosts'],
  );
  assert.equal(s.mounts.find((m) => m.destination === '/sys')!.options!.includes('ro'), true);
  assert.equal(s.linux.cgroupsPath, '/berth/abc');
  assert.equal(s.hostname, 'abc');
});

test('privileged: every bounding capability, no seccomp, no masked paths; host network joins no new netns', () => {
  const s = buildSpec({ ...base, privileged: true, networkNamespace: 'host' });
  assert.deepEqual([...(s.process.capabilities as { bounding: string[] }).bounding].sort(), [...base.bounding!].sort());
  assert.equal(s.linux.seccomp, undefined);
  assert.deepEqual(s.linux.maskedPaths, []);
  assert.ok(!(s.linux.namespaces as { type: string }[]).some((n) => n.type === 'network'));
});

test('security options', () => {
  assert.deepEqual(parseSecurityOpts(['seccomp=unconfined', 'no-new-privileges']), { seccomp: 'unconfined', noNewPrivileges: true, systemPathsUnconfined: false });
  assert.throws(() => parseSecurityOpts(['bogus=1']), /Invalid --security-opt/);
  assert.equal(buildSpec({ ...base, securityOpt: ['seccomp=unconfined'] }).linux.seccomp, undefined);
});

test('env merge: later values win by key, PATH defaulted', () => {
  assert.deepEqual(mergeEnv(['A=1', 'B=2'], ['B=3', 'C']), ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1', 'B=3', 'C']);
  assert.deepEqual(mergeEnv(['PATH=/x'], [], ['PATH=/d', 'HOSTNAME=h']), ['PATH=/x', 'HOSTNAME=h']);
});

test('resolv.conf: explicit servers, else the host minus loopback, else public fallbacks', () => {
  assert.equal(resolvConf(['127.0.0.1'], [], [], undefined, 'nameserver 10.0.0.1\n'), 'nameserver 127.0.0.1\n');
  assert.equal(resolvConf([], [], [], undefined, 'nameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch example.com\noptions ndots:2\n'), 'search example.com\nnameserver 10.0.0.1\noptions ndots:2\n');
  assert.equal(resolvConf([], [], [], undefined, 'nameserver 127.0.0.53\n'), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(resolvConf([], ['a.b'], ['ndots:1'], ['127.0.0.1'], ''), 'search a.b\nnameserver 127.0.0.1\noptions ndots:1\n');
});

test('tty: process.consoleSize from HostConfig.ConsoleSize [height, width]; 24x80 when unset or 0', () => {
  assert.deepEqual(buildSpec({ ...base, tty: true, consoleSize: [33, 111] }).process.consoleSize, { height: 33, width: 111 });
  assert.deepEqual(buildSpec({ ...base, tty: true, consoleSize: [0, 0] }).process.consoleSize, { height: 24, width: 80 });
  assert.deepEqual(buildSpec({ ...base, tty: true }).process.consoleSize, { height: 24, width: 80 });
  assert.equal(buildSpec({ ...base, tty: false, consoleSize: [33, 111] }).process.consoleSize, undefined);
});
