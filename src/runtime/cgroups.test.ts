import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cgroup, CgroupV1, CgroupV2, cgroupVersion, sharesToWeight, v2Files, weightToShares } from './cgroups';
import { ociResources } from './spec/resources';

/** A fake cgroup2 tree: the root's cgroup.controllers marks it unified. */
function fakeV2(files: Record<string, string>): { root: string; cg: string; done(): void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cg2-'));
  fs.writeFileSync(path.join(root, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
  const cg = path.join(root, 'berth', 'c1');
  fs.mkdirSync(cg, { recursive: true });
  for (const [f, v] of Object.entries(files)) fs.writeFileSync(path.join(cg, f), v);
  return { root, cg, done: () => fs.rmSync(root, { recursive: true, force: true }) };
}

test('cgroup version: a unified root is v2, per-controller hierarchies are v1', () => {
  const t = fakeV2({});
  try {
    assert.equal(cgroupVersion(t.root), 2);
    assert.ok(Cgroup.open('/berth/c1', t.root) instanceof CgroupV2);
    const v1 = fs.mkdtempSync(path.join(os.tmpdir(), 'cg1-'));
    fs.mkdirSync(path.join(v1, 'memory'));
    assert.equal(cgroupVersion(v1), 1);
    assert.ok(Cgroup.open('/berth/c1', v1) instanceof CgroupV1);
    fs.rmSync(v1, { recursive: true });
  } finally {
    t.done();
  }
});

test('v2: OOM kills are read from memory.events', () => {
  const t = fakeV2({ 'memory.events': 'low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n' });
  try {
    assert.equal(Cgroup.open('/berth/c1', t.root).oomKills(), 1);
    fs.writeFileSync(path.join(t.cg, 'memory.events'), 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n');
    assert.equal(Cgroup.open('/berth/c1', t.root).oomKills(), 0);
    fs.rmSync(path.join(t.cg, 'memory.events'));
    assert.equal(Cgroup.open('/berth/c1', t.root).oomKills(), 0, 'a missing file means no kill');
  } finally {
    t.done();
  }
});

test('v1: OOM kills are read from memory.oom_control', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cg1-'));
  try {
    fs.mkdirSync(path.join(root, 'memory', 'berth', 'c1'), { recursive: true });
    fs.writeFileSync(path.join(root, 'memory', 'berth', 'c1', 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 3\n');
    assert.equal(new CgroupV1(root, '/berth/c1').oomKills(), 3);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('v2: resources map to files (update), and the limits read back', () => {
  const hc = { Memory: 64 << 20, MemorySwap: 128 << 20, MemoryReservation: 32 << 20, NanoCpus: 1_500_000_000, CpuShares: 512, PidsLimit: 50, CpusetCpus: '0-1' };
  const files = v2Files(ociResources(hc));
  assert.deepEqual(files, {
    'memory.max': String(64 << 20),
    'memory.low': String(32 << 20),
    'memory.swap.max': String(64 << 20), // v2 counts swap alone
    'cpu.weight': String(sharesToWeight(512)),
    'cpu.max': '150000 100000',
    'cpuset.cpus': '0-1',
    'pids.max': '50',
  });
  const t = fakeV2({ 'memory.max': 'max\n', 'memory.swap.max': 'max\n', 'cpu.max': 'max 100000\n', 'pids.max': 'max\n', 'cpu.weight': '100\n', 'memory.low': '0\n', 'cpuset.cpus': '\n' });
  try {
    const cg = new CgroupV2(t.root, '/berth/c1');
    const before = cg.limits();
    assert.equal(before.memory, -1);
    assert.equal(before.cpuQuota, -1);
    assert.equal(before.pids, -1);
    cg.apply(ociResources(hc));
    assert.equal(fs.readFileSync(path.join(t.cg, 'cpu.max'), 'utf8'), '150000 100000');
    const after = cg.limits();
    assert.equal(after.memory, 64 << 20);
    assert.equal(after.memorySwap, 128 << 20);
    assert.equal(after.memoryReservation, 32 << 20);
    assert.equal(after.cpuQuota, 150000);
    assert.equal(after.cpuPeriod, 100000);
    assert.equal(after.pids, 50);
    assert.equal(after.cpus, '0-1');
    assert.ok(Math.abs(after.cpuShares - 512) < 30, `shares ${after.cpuShares}`);
    // Unlimited again: "max".
    cg.apply({ memory: { limit: -1, swap: -1 }, pids: { limit: -1 }, cpu: { quota: -1, period: 100000 } });
    assert.equal(fs.readFileSync(path.join(t.cg, 'memory.max'), 'utf8'), 'max');
    assert.equal(fs.readFileSync(path.join(t.cg, 'pids.max'), 'utf8'), 'max');
    assert.equal(cg.limits().cpuQuota, -1);
  } finally {
    t.done();
  }
});

test('v2: CPU usage from cpu.stat; block I/O throttles as io.max lines', () => {
  const t = fakeV2({ 'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n' });
  try {
    assert.equal(new CgroupV2(t.root, '/berth/c1').cpuUsageNs(), 1_500_000);
  } finally {
    t.done();
  }
  const files = v2Files({ blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 10 }] } });
  assert.equal(files['io.max'], '8:0 rbps=1048576\n8:0 wiops=10');
  assert.equal(sharesToWeight(2), 1);
  assert.ok(Math.abs(weightToShares(sharesToWeight(1024)) - 1024) < 30);
  assert.equal(sharesToWeight(262144), 10000);
});

test('--userns-remap: ranges by user name or id from subuid/subgid', async () => {
  const { parseRemap, subordinateRange } = await import('./userns');
  const files = { passwd: 'root:x:0:0::/root:/bin/sh\nfoo:x:1001:1001::/home/foo:/bin/sh\n', group: 'root:x:0:\nfoo:x:1001:\n', subuid: 'bar:1:2\nfoo:100000:65536\n', subgid: '1001:200000:1000\n' };
  assert.deepEqual(parseRemap('foo', files), { user: 'foo', group: 'foo', uid: 100000, gid: 200000, size: 1000 });
  assert.deepEqual(parseRemap('1001:foo', files).uid, 100000);
  assert.throws(() => parseRemap('nobody', files), /no subuid ranges found for user "nobody"/);
  assert.equal(subordinateRange('x:bad:1\n', ['x']), undefined);
});
