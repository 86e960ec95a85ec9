import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isKind } from '../../core/errors';
import { ALL_CAPABILITY_NAMES, DEFAULT_CAPABILITIES } from './capabilities';
import { OciSeccomp, defaultSeccompProfile, goArch, loadSeccompProfile, parseSeccompProfile } from './seccomp';

const KERNEL = '6.1.0-18-amd64';
const WITH_ADMIN = [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'];
const WITH_PTRACE = [...DEFAULT_CAPABILITIES, 'CAP_SYS_PTRACE'];
const ALL = [...ALL_CAPABILITY_NAMES];

/** How a profile treats each call: the rules (action, errno, args) that mention it. */
function decisions(p: OciSeccomp): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const r of p.syscalls ?? []) {
    const key = JSON.stringify([r.action, r.errnoRet ?? null, r.args ?? []]);
    for (const n of r.names) {
      const list = m.get(n) ?? [];
      if (!list.includes(key)) list.push(key);
      m.set(n, list.sort());
    }
  }
  return m;
}

const ALLOW_ALWAYS = JSON.stringify(['SCMP_ACT_ALLOW', null, []]);

/** Calls allowed whatever their arguments. */
function unconditional(p: OciSeccomp): string[] {
  return [...decisions(p)].filter(([, d]) => d.includes(ALLOW_ALWAYS)).map(([n]) => n).sort();
}

/** Calls allowed only with some arguments, or failing with a particular errno. */
function conditional(p: OciSeccomp): Record<string, string[]> {
  return Object.fromEntries(
    [...decisions(p)].filter(([, d]) => !d.includes(ALLOW_ALWAYS)).sort(([a], [b]) => (a < b ? -1 : 1)),
  );
}

function isAllowed(p: OciSeccomp, name: string): boolean {
  return unconditional(p).includes(name);
}

function findReference(): string | undefined {
  const candidates = [process.env.BERTH_SECCOMP_REFERENCE ?? ''];
  // the repository root: the working directory, or above this file (dist/src/runtime/spec)
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) candidates.push(path.join(dir, '..', 'shared'));
  }
  candidates.push(path.resolve(process.cwd(), '..', 'shared'));
  for (const c of candidates) {
    if (!c) continue;
    const file = c.endsWith('.json') ? c : path.join(c, 'reference', 'seccomp-default.json');
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

test("the default profile decides every call as Docker's default profile does", (t) => {
  const ref = findReference();
  if (!ref) {
    return t.skip("Docker's reference profile (../shared/reference/seccomp-default.json) is absent; set BERTH_SECCOMP_REFERENCE to compare");
  }
  const capSets: [string, string[]][] = [
    ['default caps', DEFAULT_CAPABILITIES],
    ['default + CAP_SYS_ADMIN', WITH_ADMIN],
    ['default + CAP_SYS_PTRACE', WITH_PTRACE],
    ['all caps', ALL],
    ['no caps', []],
  ];
  for (const arch of ['amd64', 'arm64', 's390x', 'ppc64le', 'riscv64']) {
    for (const kernel of [KERNEL, '4.4.0']) {
      for (const [label, caps] of capSets) {
        const what = `${label}, ${arch}, kernel ${kernel}`;
        const ours = defaultSeccompProfile({ capabilities: caps, arch, kernelVersion: kernel });
        const docker = loadSeccompProfile(ref, caps, { arch, kernelVersion: kernel });
        assert.equal(ours.defaultAction, docker.defaultAction, what);
        assert.equal(ours.defaultErrnoRet, docker.defaultErrnoRet, what);
        assert.deepEqual(ours.architectures, docker.architectures, what);
        assert.deepEqual(unconditional(ours), unconditional(docker), `unconditionally allowed calls, ${what}`);
        assert.deepEqual(conditional(ours), conditional(docker), `conditional calls, ${what}`);
      }
    }
  }
});

test('default capabilities: no mount, namespaces, keyrings or modules; ordinary calls allowed', () => {
  const p = defaultSeccompProfile({ capabilities: DEFAULT_CAPABILITIES, arch: 'amd64', kernelVersion: KERNEL });
  assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(p.defaultErrnoRet, 1);
  assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  const names = new Set(decisions(p).keys());
  for (const n of [
    'mount',
    'umount2',
    'unshare',
    'setns',
    'keyctl',
    'add_key',
    'request_key',
    'bpf',
    'perf_event_open',
    'reboot',
    'init_module',
    'kexec_load',
    'open_by_handle_at',
    'io_uring_setup',
    'userfaultfd',
    'pivot_root',
    'clock_settime',
    'syslog',
    'acct',
    'iopl',
    'vhangup',
    'mbind',
    'kcmp',
    'fsopen',
    'sethostname',
  ]) {
    assert.ok(!names.has(n), `${n} must not be allowed with the default capabilities`);
  }
  for (const n of ['read', 'write', 'execve', 'openat', 'fork', 'wait4', 'chroot', 'arch_prctl', 'modify_ldt', 'ptrace']) {
    assert.ok(isAllowed(p, n), `${n} must be allowed`);
  }
  assert.ok(!isAllowed(p, 'cacheflush'), 'arm-only calls are not in an amd64 profile');
  const c = conditional(p);
  assert.deepEqual(c.clone, [JSON.stringify(['SCMP_ACT_ALLOW', null, [{ index: 0, value: 0x7e020000, op: 'SCMP_CMP_MASKED_EQ' }]])]);
  assert.deepEqual(c.clone3, [JSON.stringify(['SCMP_ACT_ERRNO', 38, []])]);
  assert.equal(c.personality.length, 5);
  assert.equal(c.socket.length, 3);
});

test('capabilities open their calls', () => {
  const admin = defaultSeccompProfile({ capabilities: WITH_ADMIN, arch: 'amd64', kernelVersion: KERNEL });
  for (const n of ['mount', 'umount2', 'unshare', 'setns', 'clone', 'clone3', 'bpf', 'syslog', 'sethostname']) {
    assert.ok(isAllowed(admin, n), `${n} with CAP_SYS_ADMIN`);
  }
  assert.equal(conditional(admin).clone3, undefined, 'no ENOSYS rule for clone3 with CAP_SYS_ADMIN');
  assert.ok(!isAllowed(admin, 'keyctl'), 'keyctl is never allowed');

  const ptrace = defaultSeccompProfile({ capabilities: WITH_PTRACE, arch: 'amd64', kernelVersion: '4.4' });
  for (const n of ['ptrace', 'kcmp', 'pidfd_getfd', 'process_vm_readv']) assert.ok(isAllowed(ptrace, n), n);

  const noChroot = defaultSeccompProfile({ capabilities: ['CAP_CHOWN'], arch: 'amd64', kernelVersion: KERNEL });
  assert.ok(!isAllowed(noChroot, 'chroot'));

  const all = defaultSeccompProfile({ capabilities: ALL, arch: 'amd64', kernelVersion: KERNEL });
  for (const n of ['reboot', 'init_module', 'acct', 'iopl', 'settimeofday', 'vhangup', 'mbind', 'perf_event_open']) {
    assert.ok(isAllowed(all, n), n);
  }
  for (const n of ['keyctl', 'add_key', 'request_key', 'kexec_load', 'io_uring_setup']) {
    assert.ok(!decisions(all).has(n), `${n} never allowed`);
  }
});

test('ptrace needs CAP_SYS_PTRACE before kernel 4.8', () => {
  const old = defaultSeccompProfile({ capabilities: DEFAULT_CAPABILITIES, arch: 'amd64', kernelVersion: '4.4.0-210-generic' });
  assert.ok(!isAllowed(old, 'ptrace'));
  const cur = defaultSeccompProfile({ capabilities: DEFAULT_CAPABILITIES, arch: 'amd64', kernelVersion: '4.8.0' });
  assert.ok(isAllowed(cur, 'ptrace'));
});

test('architectures: families, arch-only calls, s390 clone argument order, Node names', () => {
  const arm = defaultSeccompProfile({ capabilities: DEFAULT_CAPABILITIES, arch: 'arm64', kernelVersion: KERNEL });
  assert.deepEqual(arm.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.ok(isAllowed(arm, 'cacheflush') && !isAllowed(arm, 'arch_prctl'));
  const s390 = defaultSeccompProfile({ capabilities: DEFAULT_CAPABILITIES, arch: 's390x', kernelVersion: KERNEL });
  assert.deepEqual(conditional(s390).clone, [
    JSON.stringify(['SCMP_ACT_ALLOW', null, [{ index: 1, value: 0x7e020000, op: 'SCMP_CMP_MASKED_EQ' }]]),
  ]);
  assert.deepEqual(
    defaultSeccompProfile({ capabilities: DEFAULT_CAPABILITIES, arch: 'x64', kernelVersion: KERNEL }),
    defaultSeccompProfile({ capabilities: DEFAULT_CAPABILITIES, arch: 'amd64', kernelVersion: KERNEL }),
  );
  assert.equal(goArch('x64'), 'amd64');
  assert.equal(goArch('ia32'), '386');
  assert.equal(goArch('arm64'), 'arm64');
  // this host: a profile without options has this kernel's and arch's answer
  const here = defaultSeccompProfile({ capabilities: DEFAULT_CAPABILITIES });
  assert.deepEqual(here, defaultSeccompProfile({ capabilities: DEFAULT_CAPABILITIES, arch: goArch(), kernelVersion: os.release() }));
});

test('the result is plain JSON runc can read', () => {
  const p = defaultSeccompProfile({ capabilities: DEFAULT_CAPABILITIES, arch: 'amd64', kernelVersion: KERNEL });
  assert.deepEqual(JSON.parse(JSON.stringify(p)), p);
  for (const r of p.syscalls ?? []) {
    assert.ok(r.names.length > 0);
    assert.deepEqual(Object.keys(r).filter((k) => !['names', 'action', 'errnoRet', 'args'].includes(k)), []);
  }
});

function withProfile(profile: unknown, fn: (file: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-seccomp-'));
  try {
    const file = path.join(dir, 'profile.json');
    fs.writeFileSync(file, typeof profile === 'string' ? profile : JSON.stringify(profile));
    fn(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('user profiles: includes, excludes, minKernel, legacy name, archMap', () => {
  const profile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }],
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', comment: 'ignored' },
      { name: 'getpid', action: 'SCMP_ACT_ALLOW' },
      { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'] } },
      { names: ['umount2'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { caps: ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'] } },
      { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '5.10' } },
      { names: ['kcmp'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: '5.10' } },
      { names: ['cacheflush'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm64'] } },
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', excludes: { arches: ['arm64'] } },
      {
        names: ['socket'],
        action: 'SCMP_ACT_ALLOW',
        args: [{ index: 0, value: 1, valueTwo: 0, op: 'SCMP_CMP_EQ' }],
      },
    ],
  };
  withProfile(profile, (file) => {
    const a = loadSeccompProfile(file, ['CAP_SYS_ADMIN'], { arch: 'amd64', kernelVersion: '5.4.0' });
    assert.equal(a.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(a.defaultErrnoRet, 1);
    assert.deepEqual(a.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
    assert.deepEqual(unconditional(a), ['arch_prctl', 'getpid', 'kcmp', 'read', 'write']);
    assert.deepEqual(conditional(a).socket, [JSON.stringify(['SCMP_ACT_ALLOW', null, [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }]])]);

    const b = loadSeccompProfile(file, ['CAP_NET_ADMIN', 'CAP_SYS_ADMIN'], { arch: 'arm64', kernelVersion: '6.1' });
    assert.deepEqual(b.architectures, []);
    assert.deepEqual(unconditional(b), ['cacheflush', 'getpid', 'mount', 'ptrace', 'read', 'write']);

    const c = loadSeccompProfile(file, [], { arch: 'amd64', kernelVersion: '6.1' });
    assert.deepEqual(conditional(c).umount2, [JSON.stringify(['SCMP_ACT_ERRNO', 38, []])]);
  });
});

test('user profiles: plain architectures, flags and an empty profile', () => {
  withProfile(
    { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], flags: ['SECCOMP_FILTER_FLAG_LOG'], syscalls: [] },
    (file) => {
      const p = loadSeccompProfile(file, DEFAULT_CAPABILITIES);
      assert.deepEqual(p, { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], flags: ['SECCOMP_FILTER_FLAG_LOG'], syscalls: [] });
    },
  );
  assert.equal(parseSeccompProfile('{}', DEFAULT_CAPABILITIES), undefined);
  withProfile({}, (file) => {
    assert.equal(loadSeccompProfile(file, DEFAULT_CAPABILITIES).defaultAction, 'SCMP_ACT_ALLOW');
  });
});

test('user profiles: errors are invalid arguments', () => {
  const invalid = (e: unknown): boolean => isKind(e, 'invalid-argument');
  const cases: [unknown, RegExp][] = [
    ['{not json', /Decoding seccomp profile failed/],
    [{ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ name: 'read', names: ['write'], action: 'SCMP_ACT_ALLOW' }] }, /use either 'name' or 'names'/],
    [{ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], archMap: [{ architecture: 'SCMP_ARCH_X86_64' }], syscalls: [] }, /use either 'architectures' or 'archMap'/],
    [{ defaultAction: 'SCMP_ACT_NOPE', syscalls: [] }, /unknown action/],
    [{ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'EQ' }] }] }, /unknown operator/],
    [{ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: 'five' } }] }, /invalid kernel version/],
    ['{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":18446744073709551615,"op":"SCMP_CMP_EQ"}]}]}', /too large/],
  ];
  for (const [profile, message] of cases) {
    withProfile(profile, (file) => {
      assert.throws(() => loadSeccompProfile(file, DEFAULT_CAPABILITIES, { arch: 'amd64' }), (e: unknown) => invalid(e) && message.test((e as Error).message));
    });
  }
  assert.throws(() => loadSeccompProfile('/nonexistent/profile.json', DEFAULT_CAPABILITIES), invalid);
});
