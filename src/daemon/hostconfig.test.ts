import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyUpdate, checkHostOptions, checkResources, type HostInfo } from './hostconfig';
import { ociResources, parseCpuset, parseDeviceCgroupRule, deviceNumbers } from '../runtime/spec/resources';

const host: HostInfo = { ncpu: 2, cpus: [0, 1], mems: [0], blkioWeight: false, swapAccounting: true };
const err = (fn: () => unknown, re: RegExp): void => assert.throws(fn, (e: Error) => re.test(e.message));

test("memory: Docker's minimum, swap and reservation rules; swap defaults to twice the limit", () => {
  err(() => checkResources({ Memory: 1 << 20 }, host), /^Minimum memory limit allowed is 6MB$/);
  err(() => checkResources({ MemorySwap: 64 << 20 }, host), /always set the Memory limit when using Memoryswap/);
  err(() => checkResources({ Memory: 64 << 20, MemorySwap: 32 << 20 }, host), /Minimum memoryswap limit should be larger than memory limit/);
  err(() => checkResources({ Memory: 32 << 20, MemoryReservation: 64 << 20 }, host), /can not be less than memory reservation/);
  err(() => checkResources({ MemorySwappiness: 101 }, host), /valid memory swappiness range is 0-100/);
  assert.equal(checkResources({ Memory: 32 << 20 }, host).fields.MemorySwap, 64 << 20);
  assert.equal(checkResources({ Memory: 32 << 20, MemorySwap: -1 }, host).fields.MemorySwap, -1);
  const noSwap = checkResources({ Memory: 32 << 20 }, { ...host, swapAccounting: false });
  assert.equal(noSwap.fields.MemorySwap, 0);
  assert.match(checkResources({ OomKillDisable: true }, host).warnings[0], /no memory limit is set/);
});

test('cpu: nano CPUs conflict with period/quota; ranges; cpusets available', () => {
  err(() => checkResources({ NanoCpus: 5e8, CpuPeriod: 50000 }, host), /Nano CPUs and CPU Period cannot both be set/);
  err(() => checkResources({ NanoCpus: 5e8, CpuQuota: 50000 }, host), /Nano CPUs and CPU Quota cannot both be set/);
  err(() => checkResources({ NanoCpus: 3e9 }, host), /^Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available$/);
  err(() => checkResources({ CpuPeriod: 500 }, host), /CPU cfs period can not be less than 1ms/);
  err(() => checkResources({ CpuQuota: 500 }, host), /CPU cfs quota can not be less than 1ms/);
  err(() => checkResources({ CpusetCpus: '1-3' }, host), /^Requested CPUs are not available - requested 1-3, available: 0-1$/);
  err(() => checkResources({ CpusetCpus: 'x' }, host), /Invalid value x for cpuset cpus/);
  assert.deepEqual(parseCpuset('0-2,5'), [0, 1, 2, 5]);
  assert.deepEqual(ociResources({ NanoCpus: 5e8 }).cpu, { period: 100000, quota: 50000 });
});

test('blkio weight without kernel support is dropped with a warning', () => {
  const r = checkResources({ BlkioWeight: 300 }, host);
  assert.equal(r.fields.BlkioWeight, 0);
  assert.match(r.warnings[0], /does not support Block I\/O weight/);
  err(() => checkResources({ BlkioWeight: 5 }, host), /Range of blkio weight is from 10 to 1000/);
  assert.equal(checkResources({ BlkioWeight: 300 }, { ...host, blkioWeight: true }).fields.BlkioWeight, 300);
});

test('update: zero fields unchanged, memory above the old swap refused, restart policy stored', () => {
  const cur = { ...checkResources({ Memory: 32 << 20 }, host).fields, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 } };
  const a = applyUpdate(cur, { Memory: 48 << 20, CpuShares: 0, RestartPolicy: { Name: 'always' } }, host).hostConfig;
  assert.equal(a.Memory, 48 << 20);
  assert.equal(a.MemorySwap, 96 << 20, 'swap follows as twice the limit');
  assert.deepEqual(a.RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
  const withSwap = checkResources({ Memory: 32 << 20, MemorySwap: 40 << 20 }, host).fields;
  err(() => applyUpdate(withSwap, { Memory: 64 << 20 }, host), /update the memoryswap at the same time/);
  assert.equal(applyUpdate(cur, { PidsLimit: 0 }, host).hostConfig.PidsLimit, -1);
  const nano = applyUpdate({ ...cur, CpuPeriod: 50000, CpuQuota: 20000 }, { NanoCpus: 1e9 }, host).hostConfig;
  assert.deepEqual([nano.NanoCpus, nano.CpuPeriod, nano.CpuQuota], [1e9, 0, 0]);
  err(() => applyUpdate(cur, { RestartPolicy: { Name: 'sometimes' } }, host), /invalid restart policy/);
});

test('host options: namespace modes, sysctls, device rules, ulimits', () => {
  const o = checkHostOptions({}, undefined, false);
  assert.deepEqual([o.IpcMode, o.PidMode, o.UTSMode, o.CgroupnsMode], ['private', '', '', 'host']);
  assert.equal(checkHostOptions({}, undefined, true).CgroupnsMode, 'private');
  err(() => checkHostOptions({ IpcMode: 'bogus' }, undefined, false), /invalid IPC mode/);
  err(() => checkHostOptions({ UTSMode: 'host' }, 'h1', false), /Conflicting options: hostname and the UTS mode/);
  err(() => checkHostOptions({ Sysctls: { 'kernel.panic': '1' } }, undefined, false), /not in a separate kernel namespace/);
  err(() => checkHostOptions({ NetworkMode: 'host', Sysctls: { 'net.core.somaxconn': '1' } }, undefined, false), /host network namespace/);
  assert.deepEqual(checkHostOptions({ Sysctls: { 'kernel.shmmax': '1', 'fs.mqueue.msg_max': '2', 'net.ipv4.ip_forward': '1' } }, undefined, false).Sysctls, {
    'kernel.shmmax': '1',
    'fs.mqueue.msg_max': '2',
    'net.ipv4.ip_forward': '1',
  });
  err(() => checkHostOptions({ DeviceCgroupRules: ['x 1:2 rwm'] }, undefined, false), /invalid device cgroup format/);
  assert.deepEqual(parseDeviceCgroupRule('c 1:* rw'), { allow: true, type: 'c', major: 1, access: 'rw' });
  err(() => checkHostOptions({ Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 5 }] }, undefined, false), /soft limit must be less than or equal to hard limit/);
  err(() => checkHostOptions({ Ulimits: [{ Name: 'bogus', Soft: 1, Hard: 1 }] }, undefined, false), /invalid ulimit type/);
  assert.deepEqual(deviceNumbers((8 << 8) | 3), { major: 8, minor: 3 });
  assert.deepEqual(deviceNumbers((259 << 8) | 0), { major: 259, minor: 0 });
});
