/**
 * Seccomp for containers, with Docker's semantics, as the OCI runtime-spec `linux.seccomp`
 * object that runc 1.1.5 reads.
 *
 * Docker's profiles carry conditions the OCI spec lacks (`includes` / `excludes` by
 * capability, architecture and kernel version); they are resolved here, when the bundle is
 * written, against the container's capabilities, the host's architecture and kernel.
 *
 * The default profile is berth's own rule table below (names grouped by what they do),
 * written to make the same decision as Docker's default profile for every system call.
 * Debian's /usr/share/containers/seccomp.json (podman's) is not used: it lacks the newer
 * calls Docker allows (futex_waitv, fchmodat2, cachestat, mseal, ...), allows some Docker
 * blocks (keyctl, pivot_root, userfaultfd, ...), and its default errno is ENOSYS.
 *
 * runc ignores names its libseccomp does not know, so listing newer calls is harmless.
 */
import fs from 'node:fs';
import os from 'node:os';
import { invalidArgument } from '../../core/errors';

export type SeccompAction =
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_LOG'
  | 'SCMP_ACT_NOTIFY';

export type SeccompOperator =
  | 'SCMP_CMP_NE'
  | 'SCMP_CMP_LT'
  | 'SCMP_CMP_LE'
  | 'SCMP_CMP_EQ'
  | 'SCMP_CMP_GE'
  | 'SCMP_CMP_GT'
  | 'SCMP_CMP_MASKED_EQ';

export interface OciSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOperator;
}

export interface OciSyscall {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: OciSeccompArg[];
}

/** runtime-spec `linux.seccomp`. */
export interface OciSeccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: OciSyscall[];
}

const ACTIONS: ReadonlySet<string> = new Set<SeccompAction>([
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
]);
const OPERATORS: ReadonlySet<string> = new Set<SeccompOperator>([
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
]);

// ---------------------------------------------------------------------------------------
// Docker's profile format and its resolution (moby profiles/seccomp setupSeccomp)

/** A condition of a rule in Docker's profile format. */
interface Filter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

/** A rule in Docker's profile format: an OCI rule plus conditions. */
interface Rule {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: OciSeccompArg[];
  includes?: Filter;
  excludes?: Filter;
}

interface Profile {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  /** Native architecture (SCMP_ARCH_*) → the architectures a profile for it covers. */
  archMap?: { architecture: string; subArchitectures?: string[] | null }[];
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls: Rule[];
}

/** Go's GOARCH names (which Docker's `arches` conditions use) → libseccomp's. */
const GO_TO_SCMP: Record<string, string> = {
  '386': 'SCMP_ARCH_X86',
  amd64: 'SCMP_ARCH_X86_64',
  arm: 'SCMP_ARCH_ARM',
  arm64: 'SCMP_ARCH_AARCH64',
  mips64: 'SCMP_ARCH_MIPS64',
  mips64le: 'SCMP_ARCH_MIPSEL64',
  mips64p32: 'SCMP_ARCH_MIPS64N32',
  mips64p32le: 'SCMP_ARCH_MIPSEL64N32',
  mips: 'SCMP_ARCH_MIPS',
  mipsle: 'SCMP_ARCH_MIPSEL',
  ppc: 'SCMP_ARCH_PPC',
  ppc64: 'SCMP_ARCH_PPC64',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  riscv64: 'SCMP_ARCH_RISCV64',
  s390: 'SCMP_ARCH_S390',
  s390x: 'SCMP_ARCH_S390X',
  loong64: 'SCMP_ARCH_LOONGARCH64',
};

/** GOARCH of a Node `process.arch` or GOARCH name; without one, this host's. */
export function goArch(arch?: string): string {
  if (arch === undefined) {
    // Node says ppc64 for both endiannesses; Docker's names tell them apart.
    if (process.arch === 'ppc64') return os.endianness() === 'LE' ? 'ppc64le' : 'ppc64';
    arch = process.arch;
  }
  switch (arch) {
    case 'x64':
      return 'amd64';
    case 'ia32':
      return '386';
    case 'mipsel':
      return 'mipsle';
    default:
      return arch;
  }
}

/** Major and minor of a kernel release such as "6.1.0-18-amd64" or a minKernel "4.8". */
function parseKernel(v: string, what: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(v.trim());
  if (!m) throw invalidArgument(`invalid ${what} kernel version: ${JSON.stringify(v)}`);
  return [Number(m[1]), Number(m[2])];
}

function kernelAtLeast(kernel: string, min: string): boolean {
  const [kMaj, kMin] = parseKernel(kernel, 'host');
  const [mMaj, mMin] = parseKernel(min, 'minimum');
  return kMaj > mMaj || (kMaj === mMaj && kMin >= mMin);
}

interface ResolveOptions {
  capabilities: readonly string[];
  arch?: string;
  kernelVersion?: string;
}

/** Docker's resolution of a profile's conditions; the result is what runc gets. */
function resolve(profile: Profile, opts: ResolveOptions): OciSeccomp {
  const arch = goArch(opts.arch);
  const kernel = opts.kernelVersion ?? os.release();
  const caps = new Set(opts.capabilities);
  const out: OciSeccomp = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;

  if (profile.architectures && profile.archMap && profile.archMap.length > 0 && profile.architectures.length > 0) {
    throw invalidArgument(
      "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'",
    );
  }
  const architectures = [...(profile.architectures ?? [])];
  const native = GO_TO_SCMP[arch];
  if (native && profile.archMap) {
    const entry = profile.archMap.find((a) => a.architecture === native);
    if (entry) architectures.push(entry.architecture, ...(entry.subArchitectures ?? []));
  }
  out.architectures = architectures;
  if (profile.flags) out.flags = [...profile.flags];
  if (profile.listenerPath !== undefined) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata !== undefined) out.listenerMetadata = profile.listenerMetadata;

  const syscalls: OciSyscall[] = [];
  for (const rule of profile.syscalls) {
    const ex = rule.excludes;
    if (ex) {
      if (ex.arches?.includes(arch)) continue;
      if (ex.caps?.some((c) => caps.has(c))) continue;
      if (ex.minKernel && kernelAtLeast(kernel, ex.minKernel)) continue;
    }
    const inc = rule.includes;
    if (inc) {
      if (inc.arches && inc.arches.length > 0 && !inc.arches.includes(arch)) continue;
      if (inc.caps && !inc.caps.every((c) => caps.has(c))) continue;
      if (inc.minKernel && !kernelAtLeast(kernel, inc.minKernel)) continue;
    }
    const call: OciSyscall = { names: [...rule.names], action: rule.action };
    if (rule.errnoRet !== undefined) call.errnoRet = rule.errnoRet;
    if (rule.args && rule.args.length > 0) call.args = rule.args.map((a) => ({ ...a }));
    syscalls.push(call);
  }
  out.syscalls = syscalls;
  return out;
}

// ---------------------------------------------------------------------------------------
// berth's default profile

const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);

/** Calls every container may make, whatever its capabilities (the kernel still checks them). */
const ALWAYS_ALLOWED: Record<string, string> = {
  fileIo: `open openat openat2 creat close close_range read readv pread64 preadv preadv2
    write writev pwrite64 pwritev pwritev2 lseek _llseek sendfile sendfile64 copy_file_range
    splice tee vmsplice readahead fadvise64 fadvise64_64 fallocate fsync fdatasync sync syncfs
    sync_file_range truncate truncate64 ftruncate ftruncate64 flock fcntl fcntl64 dup dup2 dup3
    ioctl pipe pipe2 memfd_create memfd_secret cachestat`,
  fileMeta: `access faccessat faccessat2 stat stat64 lstat lstat64 fstat fstat64 fstatat64
    newfstatat statx statfs statfs64 fstatfs fstatfs64 chmod fchmod fchmodat fchmodat2 chown
    chown32 fchown fchown32 fchownat lchown lchown32 utime utimes utimensat utimensat_time64
    futimesat umask statmount listmount name_to_handle_at`,
  xattrs: `getxattr lgetxattr fgetxattr getxattrat setxattr lsetxattr fsetxattr setxattrat
    listxattr llistxattr flistxattr listxattrat removexattr lremovexattr fremovexattr removexattrat`,
  dirsAndLinks: `chdir fchdir getcwd mkdir mkdirat mknod mknodat rmdir rename renameat renameat2
    link linkat symlink symlinkat unlink unlinkat readlink readlinkat getdents getdents64`,
  events: `select _newselect pselect6 pselect6_time64 poll ppoll ppoll_time64 epoll_create
    epoll_create1 epoll_ctl epoll_ctl_old epoll_wait epoll_wait_old epoll_pwait epoll_pwait2
    eventfd eventfd2 signalfd signalfd4 timerfd_create timerfd_settime timerfd_settime64
    timerfd_gettime timerfd_gettime64 inotify_init inotify_init1 inotify_add_watch
    inotify_rm_watch fanotify_mark`,
  asyncIo: `io_setup io_destroy io_submit io_cancel io_getevents io_pgetevents io_pgetevents_time64`,
  memory: `brk mmap mmap2 munmap mremap mprotect madvise mincore msync mlock mlock2 mlockall
    munlock munlockall remap_file_pages membarrier pkey_alloc pkey_free pkey_mprotect mseal
    map_shadow_stack process_mrelease`,
  processes: `fork vfork execve execveat exit exit_group wait4 waitid waitpid getpid getppid
    gettid getpgid getpgrp setpgid getsid setsid kill tkill tgkill pidfd_open pidfd_send_signal
    prctl seccomp capget capset restart_syscall rseq set_tid_address set_robust_list
    get_robust_list set_thread_area get_thread_area uretprobe riscv_hwprobe getcpu sysinfo uname
    landlock_create_ruleset landlock_add_rule landlock_restrict_self getrandom`,
  credentials: `getuid getuid32 geteuid geteuid32 getgid getgid32 getegid getegid32 getresuid
    getresuid32 getresgid getresgid32 getgroups getgroups32 setuid setuid32 setgid setgid32
    setreuid setreuid32 setregid setregid32 setresuid setresuid32 setresgid setresgid32 setfsuid
    setfsuid32 setfsgid setfsgid32 setgroups setgroups32`,
  limitsAndScheduling: `getrlimit ugetrlimit setrlimit prlimit64 getrusage getpriority setpriority
    ioprio_get ioprio_set sched_yield sched_getaffinity sched_setaffinity sched_getattr
    sched_setattr sched_getparam sched_setparam sched_getscheduler sched_setscheduler
    sched_get_priority_max sched_get_priority_min sched_rr_get_interval
    sched_rr_get_interval_time64`,
  signals: `rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend
    rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sigaltstack sigprocmask sigreturn pause`,
  time: `time gettimeofday clock_gettime clock_gettime64 clock_getres clock_getres_time64
    clock_nanosleep clock_nanosleep_time64 nanosleep adjtimex clock_adjtime clock_adjtime64 alarm
    getitimer setitimer times timer_create timer_delete timer_getoverrun timer_gettime
    timer_gettime64 timer_settime timer_settime64`,
  futexes: `futex futex_time64 futex_wait futex_wake futex_requeue futex_waitv`,
  sockets: `socketcall socketpair bind connect listen accept accept4 getsockname getpeername
    getsockopt setsockopt shutdown send sendto sendmsg sendmmsg recv recvfrom recvmsg recvmmsg
    recvmmsg_time64`,
  ipc: `ipc msgget msgsnd msgrcv msgctl semget semop semtimedop semtimedop_time64 semctl shmget
    shmat shmdt shmctl mq_open mq_unlink mq_timedsend mq_timedsend_time64 mq_timedreceive
    mq_timedreceive_time64 mq_notify mq_getsetattr`,
};

/** Calls allowed only when the container has the capability. */
const BY_CAPABILITY: [cap: string, names: string][] = [
  ['CAP_DAC_READ_SEARCH', 'open_by_handle_at'],
  [
    'CAP_SYS_ADMIN',
    `bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie
     lsm_get_self_attr lsm_list_modules lsm_set_self_attr mount mount_setattr move_mount open_tree
     perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog umount umount2 unshare`,
  ],
  ['CAP_SYS_BOOT', 'reboot'],
  ['CAP_SYS_CHROOT', 'chroot'],
  ['CAP_SYS_MODULE', 'delete_module init_module finit_module'],
  ['CAP_SYS_PACCT', 'acct'],
  ['CAP_SYS_PTRACE', 'kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace'],
  ['CAP_SYS_RAWIO', 'iopl ioperm'],
  ['CAP_SYS_TIME', 'settimeofday stime clock_settime clock_settime64'],
  ['CAP_SYS_TTY_CONFIG', 'vhangup'],
  ['CAP_SYS_NICE', 'get_mempolicy mbind set_mempolicy set_mempolicy_home_node'],
  ['CAP_SYSLOG', 'syslog'],
  ['CAP_BPF', 'bpf'],
  ['CAP_PERFMON', 'perf_event_open'],
];

/** Calls of one architecture family (GOARCH names). */
const BY_ARCH: [arches: string, names: string][] = [
  ['ppc64le', 'sync_file_range2 swapcontext'],
  ['arm arm64', 'arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls'],
  ['amd64 x32', 'arch_prctl'],
  ['amd64 x32 x86', 'modify_ldt'],
  ['s390 s390x', 's390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr'],
  ['riscv64', 'riscv_flush_icache'],
];

/** personality(2) personas a container may switch to: Linux, with ADDR_NO_RANDOMIZE, UNAME26, and the query. */
const PERSONALITIES = [0x0, 0x0008, 0x20000, 0x20008, 0xffffffff];

/** Address families socket(2) refuses: AF_ALG (38) and AF_VSOCK (40). */
const AF_ALG = 38;
const AF_VSOCK = 40;

/** CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET: clone may create no namespace without CAP_SYS_ADMIN. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;

const ENOSYS = 38;
const EPERM = 1;

const allow = (names: string[], more: Partial<Rule> = {}): Rule => ({ names, action: 'SCMP_ACT_ALLOW', ...more });

function defaultRules(): Rule[] {
  const rules: Rule[] = [allow(Object.values(ALWAYS_ALLOWED).flatMap(words))];
  // Before 4.8, ptrace could bypass seccomp; after it, ptrace is as safe as the rest.
  rules.push(allow(words('process_vm_readv process_vm_writev ptrace'), { includes: { minKernel: '4.8' } }));
  rules.push(
    allow(['socket'], { args: [{ index: 0, value: AF_ALG, op: 'SCMP_CMP_LT' }] }),
    allow(['socket'], { args: [{ index: 0, value: AF_ALG + 1, op: 'SCMP_CMP_EQ' }] }),
    allow(['socket'], { args: [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_GT' }] }),
  );
  for (const p of PERSONALITIES) rules.push(allow(['personality'], { args: [{ index: 0, value: p, op: 'SCMP_CMP_EQ' }] }));
  for (const [arches, names] of BY_ARCH) rules.push(allow(words(names), { includes: { arches: words(arches) } }));
  for (const [cap, names] of BY_CAPABILITY) rules.push(allow(words(names), { includes: { caps: [cap] } }));
  // Without CAP_SYS_ADMIN: clone without namespace flags (s390 swaps clone's first two
  // arguments), and clone3, whose flags seccomp cannot see, fails with ENOSYS so that libc
  // falls back to clone.
  const mask = (index: number): OciSeccompArg[] => [{ index, value: CLONE_NAMESPACE_FLAGS, op: 'SCMP_CMP_MASKED_EQ' }];
  rules.push(
    allow(['clone'], { args: mask(0), excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] } }),
    allow(['clone'], { args: mask(1), includes: { arches: ['s390', 's390x'] }, excludes: { caps: ['CAP_SYS_ADMIN'] } }),
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, excludes: { caps: ['CAP_SYS_ADMIN'] } },
  );
  return rules;
}

const DEFAULT_ARCH_MAP: Profile['archMap'] = [
  { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
  { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
  { architecture: 'SCMP_ARCH_MIPS64', subArchitectures: ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64N32'] },
  { architecture: 'SCMP_ARCH_MIPS64N32', subArchitectures: ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64'] },
  { architecture: 'SCMP_ARCH_MIPSEL64', subArchitectures: ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64N32'] },
  { architecture: 'SCMP_ARCH_MIPSEL64N32', subArchitectures: ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64'] },
  { architecture: 'SCMP_ARCH_S390X', subArchitectures: ['SCMP_ARCH_S390'] },
  { architecture: 'SCMP_ARCH_RISCV64' },
  { architecture: 'SCMP_ARCH_LOONGARCH64' },
];

/**
 * berth's default seccomp profile for a container whose effective (bounding) capabilities
 * are `capabilities` ('CAP_CHOWN', ...): everything not allowed fails with EPERM.
 * `arch` is a GOARCH or Node arch name (default: this host's); `kernelVersion` defaults to
 * the running kernel's release.
 */
export function defaultSeccompProfile(opts: {
  capabilities: string[];
  arch?: string;
  kernelVersion?: string;
}): OciSeccomp {
  return resolve(
    { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: EPERM, archMap: DEFAULT_ARCH_MAP, syscalls: defaultRules() },
    opts,
  );
}

// ---------------------------------------------------------------------------------------
// Profiles from users (`--security-opt seccomp=...`)

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function bad(msg: string): never {
  throw invalidArgument(`Decoding seccomp profile failed: ${msg}`);
}

function stringList(v: unknown, what: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) bad(`${what} must be a list of strings`);
  return v as string[];
}

function uint(v: unknown, what: string, optional = true): number | undefined {
  if ((v === undefined || v === null) && optional) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) bad(`${what} must be an unsigned integer`);
  if (!Number.isSafeInteger(v)) bad(`${what} ${v} is too large to be represented exactly`);
  return v;
}

function action(v: unknown, what: string): SeccompAction {
  if (typeof v !== 'string' || !ACTIONS.has(v)) bad(`${what}: unknown action ${JSON.stringify(v)}`);
  return v as SeccompAction;
}

function filter(v: unknown, what: string): Filter | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) bad(`${what} must be an object`);
  const f: Filter = {};
  const caps = stringList(v.caps, `${what}.caps`);
  if (caps) f.caps = caps;
  const arches = stringList(v.arches, `${what}.arches`);
  if (arches) f.arches = arches;
  if (v.minKernel !== undefined && v.minKernel !== null && v.minKernel !== '') {
    if (typeof v.minKernel !== 'string' || !/^\d+\.\d+$/.test(v.minKernel)) {
      bad(`${what}.minKernel: invalid kernel version ${JSON.stringify(v.minKernel)}, must be <major>.<minor>`);
    }
    f.minKernel = v.minKernel;
  }
  return f;
}

function parseRule(v: unknown, i: number): Rule {
  const what = `syscalls[${i}]`;
  if (!isObject(v)) bad(`${what} must be an object`);
  const names = stringList(v.names, `${what}.names`) ?? [];
  if (typeof v.name === 'string' && v.name !== '') {
    if (names.length > 0) {
      throw invalidArgument("'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'");
    }
    names.push(v.name);
  }
  const rule: Rule = { names: [...names], action: action(v.action, `${what}.action`) };
  const errnoRet = uint(v.errnoRet, `${what}.errnoRet`);
  if (errnoRet !== undefined) rule.errnoRet = errnoRet;
  if (v.args !== undefined && v.args !== null) {
    if (!Array.isArray(v.args)) bad(`${what}.args must be a list`);
    rule.args = v.args.map((a: unknown, j: number) => {
      const w = `${what}.args[${j}]`;
      if (!isObject(a)) bad(`${w} must be an object`);
      if (typeof a.op !== 'string' || !OPERATORS.has(a.op)) bad(`${w}: unknown operator ${JSON.stringify(a.op)}`);
      const arg: OciSeccompArg = {
        index: uint(a.index ?? 0, `${w}.index`, false) as number,
        value: uint(a.value ?? 0, `${w}.value`, false) as number,
        op: a.op as SeccompOperator,
      };
      const two = uint(a.valueTwo, `${w}.valueTwo`);
      if (two) arg.valueTwo = two;
      return arg;
    });
  }
  const includes = filter(v.includes, `${what}.includes`);
  if (includes) rule.includes = includes;
  const excludes = filter(v.excludes, `${what}.excludes`);
  if (excludes) rule.excludes = excludes;
  return rule;
}

/**
 * A profile in Docker's JSON format (the `seccomp=` security option carries the file's
 * content), resolved for a container with `capabilities`. Returns undefined for a profile
 * with neither a default action nor rules, which Docker takes as "no seccomp".
 */
export function parseSeccompProfile(
  json: string,
  capabilities: readonly string[],
  opts: { arch?: string; kernelVersion?: string } = {},
): OciSeccomp | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    bad((e as Error).message);
  }
  if (!isObject(raw)) bad('the profile must be a JSON object');
  const syscalls = raw.syscalls ?? [];
  if (!Array.isArray(syscalls)) bad('syscalls must be a list');
  if ((raw.defaultAction === undefined || raw.defaultAction === '') && syscalls.length === 0) return undefined;

  const profile: Profile = {
    defaultAction: action(raw.defaultAction, 'defaultAction'),
    syscalls: syscalls.map(parseRule),
  };
  const defErrno = uint(raw.defaultErrnoRet, 'defaultErrnoRet');
  if (defErrno !== undefined) profile.defaultErrnoRet = defErrno;
  const architectures = stringList(raw.architectures, 'architectures');
  if (architectures) profile.architectures = architectures;
  if (raw.archMap !== undefined && raw.archMap !== null) {
    if (!Array.isArray(raw.archMap)) bad('archMap must be a list');
    profile.archMap = raw.archMap.map((a: unknown, i: number) => {
      if (!isObject(a) || typeof a.architecture !== 'string') bad(`archMap[${i}].architecture must be a string`);
      return {
        architecture: a.architecture as string,
        subArchitectures: stringList(a.subArchitectures, `archMap[${i}].subArchitectures`) ?? [],
      };
    });
  }
  const flags = stringList(raw.flags, 'flags');
  if (flags) profile.flags = flags;
  if (typeof raw.listenerPath === 'string' && raw.listenerPath !== '') profile.listenerPath = raw.listenerPath;
  if (typeof raw.listenerMetadata === 'string' && raw.listenerMetadata !== '') {
    profile.listenerMetadata = raw.listenerMetadata;
  }
  return resolve(profile, { capabilities, ...opts });
}

/**
 * `--security-opt seccomp=/path/profile.json`: Docker's profile format (`names` or the
 * legacy `name`, `archMap`, `includes`/`excludes` by caps, arches and minKernel), resolved
 * for a container with `capabilities`. A profile with neither a default action nor rules
 * means no filter at all, as in Docker: the result then allows every call.
 */
export function loadSeccompProfile(
  file: string,
  capabilities: string[],
  opts: { arch?: string; kernelVersion?: string } = {},
): OciSeccomp {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw invalidArgument(`opening seccomp profile (${file}) failed: ${(e as Error).message}`);
  }
  return parseSeccompProfile(text, capabilities, opts) ?? { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [] };
}
