/**
 * Linux capabilities as Docker handles them: the default set a container gets, and
 * `--cap-add` / `--cap-drop` (names with or without `CAP_`, any case, and the magic `ALL`).
 */
import fs from 'node:fs';
import { invalidArgument } from '../../core/errors';

/** Docker's default capability set for a non-privileged container (moby oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES: string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Every capability the kernel knows, indexed by its bit number (linux/capability.h). */
export const ALL_CAPABILITY_NAMES: readonly string[] = [
  'CAP_CHOWN', // 0
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL', // 5
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE', // 10
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', // 15
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', // 20
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', // 25
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL', // 30
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM', // 35
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE', // 40
];

const KNOWN = new Set(ALL_CAPABILITY_NAMES);

/**
 * Capability names of a `CapBnd:` (or any `Cap*:`) hex mask from /proc/<pid>/status.
 * Bits beyond the names berth knows are ignored.
 */
export function capabilitiesFromMask(hex: string): string[] {
  const mask = BigInt('0x' + hex.trim());
  return ALL_CAPABILITY_NAMES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

let hostBounding: string[] | undefined;

/**
 * The capabilities in this process's bounding set (what `ALL` and `--privileged` can give a
 * container). `status` is the text of /proc/self/status, for tests.
 */
export function hostCapabilities(status?: string): string[] {
  if (status === undefined && hostBounding) return [...hostBounding];
  let text = status;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/self/status', 'utf8');
    } catch {
      text = '';
    }
  }
  const m = /^CapBnd:\s*([0-9a-fA-F]+)\s*$/m.exec(text);
  // Without /proc, assume every capability the kernel knows.
  const caps = m ? capabilitiesFromMask(m[1]) : [...ALL_CAPABILITY_NAMES];
  if (status === undefined) hostBounding = caps;
  return [...caps];
}

/**
 * Upper-cases and prefixes `CAP_` to each name, keeping `ALL` as is; throws Docker's
 * `unknown capability: "CAP_FOO"` (invalid argument, HTTP 400) for a name the kernel lacks.
 */
export function normalizeCapabilityNames(names: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of names) {
    let c = raw.trim().toUpperCase();
    if (c === 'ALL') {
      out.push(c);
      continue;
    }
    if (!c.startsWith('CAP_')) c = 'CAP_' + c;
    if (!KNOWN.has(c)) throw invalidArgument(`unknown capability: ${JSON.stringify(c)}`);
    out.push(c);
  }
  return out;
}

/**
 * Docker's --cap-add / --cap-drop (moby oci/caps TweakCapabilities):
 *  - `ALL` in add: every capability of the host's bounding set, minus those dropped;
 *  - else `ALL` in drop: only the added ones;
 *  - else base minus dropped, plus added.
 * The result has no duplicates and keeps the order of first appearance.
 * `bounding` overrides the host's bounding set (tests).
 */
export function normalizeCapabilities(
  base: readonly string[],
  add: readonly string[] = [],
  drop: readonly string[] = [],
  bounding?: readonly string[],
): string[] {
  const capDrop = normalizeCapabilityNames(drop);
  const capAdd = normalizeCapabilityNames(add);
  let caps: string[];
  if (capAdd.includes('ALL')) {
    caps = (bounding ? [...bounding] : hostCapabilities()).filter((c) => !capDrop.includes(c));
  } else if (capDrop.includes('ALL')) {
    caps = capAdd;
  } else {
    caps = [...base.filter((c) => !capDrop.includes(c)), ...capAdd];
  }
  return [...new Set(caps)];
}
