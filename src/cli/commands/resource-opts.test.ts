import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags } from '../flags';
import { CONTAINER_FLAGS, OptionError, buildCreateRequest, type OptsEnv } from './container-opts';
import { nanoCpus, parseDevice, parseUlimit } from './resource-opts';
import { parseRestartPolicy } from './update';

const io: OptsEnv = { readFile: () => '', env: {} };
const hostConfig = (argv: string[]): Record<string, unknown> => {
  const f = parseFlags([...argv, 'busybox'], CONTAINER_FLAGS, { interspersed: false });
  return buildCreateRequest(f, f.args, true, io).body.HostConfig as Record<string, unknown>;
};

test('resource flags become the HostConfig fields docker sends', () => {
  const hc = hostConfig([
    '-m', '32m', '--memory-swap', '-1', '--memory-reservation', '16M', '--cpus', '1.5', '-c', '512', '--cpuset-cpus', '0',
    '--pids-limit', '20', '--blkio-weight', '300', '--device-read-bps', '/dev/vda:1mb', '--device-write-iops', '/dev/vda:10',
    '--oom-kill-disable', '--memory-swappiness', '10', '--cgroup-parent', 'p', '--cgroupns', 'private', '--shm-size', '1g',
  ]);
  assert.equal(hc.Memory, 32 << 20);
  assert.equal(hc.MemorySwap, -1);
  assert.equal(hc.MemoryReservation, 16 << 20);
  assert.equal(hc.NanoCpus, 1_500_000_000);
  assert.equal(hc.CpuShares, 512);
  assert.equal(hc.CpusetCpus, '0');
  assert.equal(hc.PidsLimit, 20);
  assert.equal(hc.BlkioWeight, 300);
  assert.deepEqual(hc.BlkioDeviceReadBps, [{ Path: '/dev/vda', Rate: 1 << 20 }]);
  assert.deepEqual(hc.BlkioDeviceWriteIOps, [{ Path: '/dev/vda', Rate: 10 }]);
  assert.equal(hc.OomKillDisable, true);
  assert.equal(hc.MemorySwappiness, 10);
  assert.equal(hc.CgroupParent, 'p');
  assert.equal(hc.CgroupnsMode, 'private');
  assert.equal(hc.ShmSize, 1 << 30);
  assert.equal(hostConfig([]).Memory, undefined, 'unset flags are not sent');
});

test('security flags: capabilities, devices, ulimits, sysctls, security options', () => {
  const hc = hostConfig([
    '--cap-add', 'NET_ADMIN', '--cap-drop', 'chown', '--privileged', '--read-only', '--group-add', '5', '--device', '/dev/fuse',
    '--device', '/dev/null:/dev/n:r', '--device-cgroup-rule', 'c 1:3 rwm', '--ulimit', 'nofile=10:20', '--sysctl', 'net.ipv4.ip_forward=1',
    '--init', '--ipc', 'shareable', '--pid', 'host', '--uts', 'host', '--security-opt', 'no-new-privileges', '--security-opt', 'systempaths=unconfined',
  ]);
  assert.deepEqual(hc.CapAdd, ['NET_ADMIN']);
  assert.deepEqual(hc.CapDrop, ['chown']);
  assert.equal(hc.Privileged, true);
  assert.equal(hc.ReadonlyRootfs, true);
  assert.deepEqual(hc.GroupAdd, ['5']);
  assert.deepEqual(hc.Devices, [
    { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' },
    { PathOnHost: '/dev/null', PathInContainer: '/dev/n', CgroupPermissions: 'r' },
  ]);
  assert.deepEqual(hc.DeviceCgroupRules, ['c 1:3 rwm']);
  assert.deepEqual(hc.Ulimits, [{ Name: 'nofile', Soft: 10, Hard: 20 }]);
  assert.deepEqual(hc.Sysctls, { 'net.ipv4.ip_forward': '1' });
  assert.equal(hc.Init, true);
  assert.deepEqual([hc.IpcMode, hc.PidMode, hc.UTSMode], ['shareable', 'host', 'host']);
  assert.deepEqual(hc.SecurityOpt, ['no-new-privileges']);
  assert.deepEqual([hc.MaskedPaths, hc.ReadonlyPaths], [[], []]);
});

test('bad values are option errors (exit 125)', () => {
  for (const argv of [['--cpus', 'x'], ['--memory', '12q'], ['--device', '/dev/null:/dev/n:xyz'], ['--ulimit', 'nofile'], ['--device-read-bps', 'vda:1mb'], ['--security-opt', 'seccomp=/no/such/file']]) {
    assert.throws(() => hostConfig(argv), OptionError, argv.join(' '));
  }
  assert.equal(nanoCpus('0.5'), 500_000_000);
  assert.deepEqual(parseDevice('/dev/a:rw'), { PathOnHost: '/dev/a', PathInContainer: '/dev/a', CgroupPermissions: 'rw' });
  assert.deepEqual(parseUlimit('nproc=5'), { Name: 'nproc', Soft: 5, Hard: 5 });
  assert.deepEqual(parseRestartPolicy('on-failure:3'), { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.throws(() => parseRestartPolicy('always:3'), /maximum retry count can only be used with 'on-failure'/);
  assert.throws(() => parseRestartPolicy('sometimes'), /unknown policy/);
});
