/**
 * mount(8)-style option strings, as moby/sys/mount reads them: the words that are mount(2) flags
 * become flags, everything else is file-system data. Used for `local` volumes with `-o o=...`
 * and for tmpfs options (`--tmpfs /x:size=1m,mode=700`, `--mount type=tmpfs,tmpfs-size=...`).
 * Pure: no system calls.
 */

export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  REC: 0x4000,
  SILENT: 0x8000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  STRICTATIME: 0x1000000,
} as const;

/** The propagation types; a mount(2) call changes either these or everything else. */
export const PROPAGATION_TYPES = MS.SHARED | MS.PRIVATE | MS.SLAVE | MS.UNBINDABLE;

const FLAGS: Record<string, { clear: boolean; flag: number }> = {
  defaults: { clear: false, flag: 0 },
  ro: { clear: false, flag: MS.RDONLY },
  rw: { clear: true, flag: MS.RDONLY },
  suid: { clear: true, flag: MS.NOSUID },
  nosuid: { clear: false, flag: MS.NOSUID },
  dev: { clear: true, flag: MS.NODEV },
  nodev: { clear: false, flag: MS.NODEV },
  exec: { clear: true, flag: MS.NOEXEC },
  noexec: { clear: false, flag: MS.NOEXEC },
  sync: { clear: false, flag: MS.SYNCHRONOUS },
  async: { clear: true, flag: MS.SYNCHRONOUS },
  dirsync: { clear: false, flag: MS.DIRSYNC },
  remount: { clear: false, flag: MS.REMOUNT },
  mand: { clear: false, flag: MS.MANDLOCK },
  nomand: { clear: true, flag: MS.MANDLOCK },
  atime: { clear: true, flag: MS.NOATIME },
  noatime: { clear: false, flag: MS.NOATIME },
  diratime: { clear: true, flag: MS.NODIRATIME },
  nodiratime: { clear: false, flag: MS.NODIRATIME },
  bind: { clear: false, flag: MS.BIND },
  rbind: { clear: false, flag: MS.BIND | MS.REC },
  unbindable: { clear: false, flag: MS.UNBINDABLE },
  runbindable: { clear: false, flag: MS.UNBINDABLE | MS.REC },
  private: { clear: false, flag: MS.PRIVATE },
  rprivate: { clear: false, flag: MS.PRIVATE | MS.REC },
  shared: { clear: false, flag: MS.SHARED },
  rshared: { clear: false, flag: MS.SHARED | MS.REC },
  slave: { clear: false, flag: MS.SLAVE },
  rslave: { clear: false, flag: MS.SLAVE | MS.REC },
  relatime: { clear: false, flag: MS.RELATIME },
  norelatime: { clear: true, flag: MS.RELATIME },
  strictatime: { clear: false, flag: MS.STRICTATIME },
  nostrictatime: { clear: true, flag: MS.STRICTATIME },
};

/** moby/sys/mount parseOptions: "ro,size=1m" → flags MS_RDONLY, data "size=1m". */
export function parseMountOptions(options: string): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const o of options.split(',')) {
    const f = FLAGS[o];
    if (f && f.flag !== 0) {
      if (f.clear) flags &= ~f.flag;
      else flags |= f.flag;
    } else {
      data.push(o);
    }
  }
  return { flags, data: data.join(',') };
}

/** Data keys tmpfs accepts. */
const TMPFS_DATA = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol']);

/** Go's %q of a []string, as in `Invalid tmpfs option ["foo" "bar"]`. */
function goQuoteList(xs: string[]): string {
  return `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;
}

/**
 * moby's MergeTmpfsOptions: later options win (a flag and its opposite count as one, all
 * propagation modes as one, data by key); the result keeps the order of the winners.
 */
export function mergeTmpfsOptions(options: readonly string[]): string[] {
  const flagSeen = new Set<number>();
  const dataSeen = new Set<string>();
  const out: string[] = [];
  for (let i = options.length - 1; i >= 0; i--) {
    const option = options[i];
    if (option === 'defaults') continue;
    const f = FLAGS[option];
    if (f && f.flag !== 0) {
      const key = f.flag & PROPAGATION_TYPES ? -1 : f.flag;
      if (!flagSeen.has(key)) {
        out.unshift(option);
        flagSeen.add(key);
      }
      continue;
    }
    const eq = option.indexOf('=');
    const kv = eq >= 0 ? [option.slice(0, eq), option.slice(eq + 1)] : [option];
    if (kv.length !== 2 || !TMPFS_DATA.has(kv[0])) throw new Error(`Invalid tmpfs option ${goQuoteList(kv)}`);
    if (!dataSeen.has(kv[0])) {
      out.unshift(option);
      dataSeen.add(kv[0]);
    }
  }
  return out;
}

/** The options of a container's tmpfs mount: Docker's defaults, then the user's. */
export function tmpfsMountOptions(data: string): string[] {
  const opts = ['noexec', 'nosuid', 'nodev', 'rprivate'];
  if (data !== '') opts.push(...data.split(','));
  return mergeTmpfsOptions(opts);
}

/**
 * moby's ConvertTmpfsOptions: `--mount type=tmpfs` options as mount data. The size takes the
 * largest of g, m, k that divides it evenly; the mode is written in octal.
 */
export function convertTmpfsOptions(opts: { SizeBytes?: number; Mode?: number } | null | undefined, readOnly: boolean): string {
  const raw: string[] = [];
  if (readOnly) raw.push('ro');
  if (opts?.Mode) raw.push(`mode=${opts.Mode.toString(8)}`);
  if (opts?.SizeBytes) {
    let size = opts.SizeBytes;
    let suffix = '';
    for (const [s, d] of [['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const) {
      if (size % d === 0) {
        size = size / d;
        suffix = s;
        break;
      }
    }
    raw.push(`size=${size}${suffix}`);
  }
  return raw.join(',');
}
