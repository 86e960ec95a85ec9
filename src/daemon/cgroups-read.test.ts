import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cgroup, cgroupVersion, netDev, systemCpu } from './cgroups-read';
import { sampleStats } from './stats';
import { parsePs } from './top';
import { cpuPercent, memUsage, statsRow } from '../cli/commands/stats';

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-'));
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), text);
  }
  return root;
}

const V2 = {
  'cgroup.controllers': 'cpu io memory pids\n',
  'berth/c1/cgroup.procs': '10\n11\n',
  'berth/c1/cpu.stat': 'usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\nnr_periods 4\nnr_throttled 1\nthrottled_usec 70\n',
  'berth/c1/memory.current': '10485760\n',
  'berth/c1/memory.max': 'max\n',
  'berth/c1/memory.stat': 'anon 8388608\nfile 2097152\ninactive_file 1048576\n',
  'berth/c1/pids.current': '2\n',
  'berth/c1/pids.max': '100\n',
  'berth/c1/io.stat': '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n',
};

test('cgroup v2: counters from the unified files', () => {
  const root = tree(V2);
  try {
    assert.equal(cgroupVersion(root), 2);
    const cg = new Cgroup('/berth/c1', root);
    assert.equal(cg.version, 2);
    assert.deepEqual(cg.pids(), [10, 11]);
    const k = cg.counters();
    assert.deepEqual(k.cpu, { total: 5_000_000, kernel: 2_000_000, user: 3_000_000, throttling: { periods: 4, throttled_periods: 1, throttled_time: 70_000 } });
    assert.equal(k.memory.usage, 10485760);
    assert.equal(k.memory.limit, Infinity);
    assert.equal(k.memory.stats.inactive_file, 1048576);
    assert.deepEqual(k.pids, { current: 2, limit: 100 });
    assert.deepEqual(k.blkio.serviceBytes, [
      { major: 8, minor: 0, op: 'read', value: 4096 },
      { major: 8, minor: 0, op: 'write', value: 8192 },
    ]);
  } finally {
    fs.rmSync(root, { recursive: true });
  }
});

test('cgroup v2: the stats JSON and the docker CLI figures', () => {
  const root = tree({
    ...V2,
    'proc/stat': 'cpu  100 0 50 1000 0 0 0 0 0 0\ncpu0 50 0 25 500 0 0 0 0 0 0\ncpu1 50 0 25 500 0 0 0 0 0 0\n',
    'proc/meminfo': 'MemTotal:        2048000 kB\n',
    'proc/42/net/dev': 'Inter-|   Receive\n face |bytes\n    lo: 10 1 0 0 0 0 0 0 10 1 0 0 0 0 0 0\n  eth0: 1500 10 1 2 0 0 0 0 2500 20 3 4 0 0 0 0\n',
  });
  try {
    const t = { id: 'c1', name: '/one', running: true, pid: 42, cgroupsPath: '/berth/c1', hostNetwork: false };
    const o = { cgroupRoot: root, procStat: path.join(root, 'proc/stat'), meminfo: path.join(root, 'proc/meminfo'), procRoot: path.join(root, 'proc') };
    const s = sampleStats(t, undefined, o);
    assert.equal(s.cpu_stats.cpu_usage.total_usage, 5_000_000);
    assert.equal(s.cpu_stats.cpu_usage.percpu_usage, undefined);
    assert.equal(s.cpu_stats.online_cpus, 2);
    assert.equal(s.cpu_stats.system_cpu_usage, 1150 * 1e7);
    assert.equal(s.memory_stats.limit, 2048000 * 1024, 'unlimited: the host memory');
    assert.equal(s.memory_stats.max_usage, undefined);
    assert.deepEqual(s.pids_stats, { current: 2, limit: 100 });
    assert.deepEqual(Object.keys(s.networks!), ['eth0']);
    assert.deepEqual(s.networks!.eth0, { rx_bytes: 1500, rx_packets: 10, rx_errors: 1, rx_dropped: 2, tx_bytes: 2500, tx_packets: 20, tx_errors: 3, tx_dropped: 4 });
    assert.equal(memUsage(s.memory_stats), 10485760 - 1048576);
    const row = statsRow('one', s, true);
    assert.equal(row.MemUsage, '9MiB / 1.953GiB');
    assert.equal(row.BlockIO, '4.1kB / 8.19kB');
    assert.equal(row.NetIO, '1.5kB / 2.5kB');
    assert.equal(row.PIDs, '2');
    assert.equal(row.Name, 'one');
  } finally {
    fs.rmSync(root, { recursive: true });
  }
});

test('cgroup v1: per-controller directories and the blkio fallbacks', () => {
  const root = tree({
    'cpuacct/p/c/cpuacct.usage': '3000\n',
    'cpuacct/p/c/cpuacct.usage_percpu': '1000 2000 \n',
    'cpuacct/p/c/cpuacct.stat': 'user 3\nsystem 1\n',
    'cpu/p/c/cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n',
    'memory/p/c/memory.usage_in_bytes': '4096\n',
    'memory/p/c/memory.limit_in_bytes': '9223372036854771712\n',
    'memory/p/c/memory.max_usage_in_bytes': '8192\n',
    'memory/p/c/memory.failcnt': '0\n',
    'memory/p/c/memory.stat': 'cache 0\nrss 4096\ntotal_inactive_file 0\n',
    'pids/p/c/pids.current': '1\n',
    'pids/p/c/pids.max': 'max\n',
    'pids/p/c/cgroup.procs': '7\n',
    'blkio/p/c/blkio.io_service_bytes_recursive': 'Total 0\n',
    'blkio/p/c/blkio.throttle.io_service_bytes_recursive': '8:0 Read 512\n8:0 Write 1024\nTotal 1536\n',
  });
  try {
    const cg = new Cgroup('/p/c', root);
    assert.equal(cg.version, 1);
    assert.deepEqual(cg.pids(), [7]);
    const k = cg.counters();
    assert.deepEqual(k.cpu.percpu, [1000, 2000]);
    assert.equal(k.cpu.user, 3e7);
    assert.equal(k.cpu.kernel, 1e7);
    assert.equal(k.memory.maxUsage, 8192);
    assert.equal(k.pids.limit, Infinity);
    assert.deepEqual(k.blkio.serviceBytes.map((e) => e.op), ['Read', 'Write']);
  } finally {
    fs.rmSync(root, { recursive: true });
  }
});

test('docker CLI CPU %: delta of the container over delta of the system, times CPUs', () => {
  const s = {
    cpu_stats: { cpu_usage: { total_usage: 3e9 }, system_cpu_usage: 12e9, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 2e9 }, system_cpu_usage: 10e9 },
  };
  assert.equal(cpuPercent(s), 100);
  assert.equal(statsRow('x', s, true).CPUPerc, '100.00%');
  assert.equal(statsRow('x', undefined, true).CPUPerc, '--');
});

test('top: rows of the cgroup pids only; the last column keeps spaces', () => {
  const out = 'UID  PID  PPID  CMD\nroot 1 0 /sbin/init splash\nroot 7 1 sleep 10\nroot 70 1 other\n';
  assert.deepEqual(parsePs(out, new Set([7])), { Titles: ['UID', 'PID', 'PPID', 'CMD'], Processes: [['root', '7', '1', 'sleep 10']] });
  assert.throws(() => parsePs('USER CMD\n', new Set()), /Couldn't find PID field/);
});

test('systemCpu and netDev parse the host files', () => {
  const s = systemCpu();
  assert.ok(s.usage > 0 && s.online >= 1);
  assert.deepEqual(netDev('a\nb\n'), {});
});
