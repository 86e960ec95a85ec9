/**
 * Platforms (os/architecture/variant) and the choice of one manifest from a manifest list or OCI
 * index, with containerd's normalisation: aarch64 → arm64 (v8 the default and only variant),
 * x86_64 → amd64, armhf → arm/v7, and an arm/v7 host accepting v6 and v5 images when no v7 exists.
 */
import { BerthError, invalidArgument } from '../../core/errors';
import type { Descriptor, Platform } from './types';

const COMPONENT = /^[A-Za-z0-9_-]+$/;
const KNOWN_OS = new Set(['linux', 'windows', 'darwin', 'freebsd', 'netbsd', 'openbsd', 'solaris', 'illumos', 'aix', 'android', 'ios', 'plan9', 'js', 'wasip1']);

/** Normalised form used for comparison only; callers keep what they passed. */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase() === 'macos' ? 'darwin' : p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant = (p.variant ?? '').toLowerCase();
  switch (architecture) {
    case 'i386':
    case 'x86':
      architecture = '386';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      architecture = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'aarch64':
    case 'arm64':
      architecture = 'arm64';
      if (variant === '8' || variant === 'v8' || variant === 'v8.0') variant = '';
      break;
    case 'armhf':
      architecture = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      architecture = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === '') variant = 'v7';
      else if (/^[5-8]$/.test(variant)) variant = `v${variant}`;
      break;
  }
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** Parses `linux/arm64/v8`, `linux/amd64`, `arm64` (os linux) or `linux` (the host's architecture). */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().split('/');
  if (parts.length > 3 || parts.some((c) => !COMPONENT.test(c))) {
    throw invalidArgument(`"${s}": unknown operating system or architecture: invalid argument`);
  }
  if (parts.length === 1) {
    const one = parts[0].toLowerCase();
    if (KNOWN_OS.has(one)) return { ...hostPlatform(), os: one };
    const arch = normalizePlatform({ os: 'linux', architecture: one });
    return { os: 'linux', architecture: arch.architecture, ...(arch.variant && one !== 'arm' ? { variant: arch.variant } : {}) };
  }
  const [os, architecture, variant] = parts;
  const n = normalizePlatform({ os, architecture });
  const p: Platform = { os: os.toLowerCase(), architecture: n.architecture };
  if (variant) p.variant = variant.toLowerCase();
  else if (n.variant && architecture.toLowerCase() !== 'arm') p.variant = n.variant; // armhf → arm/v7
  return p;
}

/** The platform this process runs on, in OCI names. */
export function hostPlatform(): Platform {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64', mips64el: 'mips64le' };
  const architecture = map[process.arch] ?? process.arch;
  if (architecture === 'arm') {
    const v = (process.config.variables as unknown as Record<string, unknown>).arm_version;
    return { os: 'linux', architecture, variant: `v${typeof v === 'string' || typeof v === 'number' ? v : 7}` };
  }
  return { os: 'linux', architecture };
}

/** How well `have` serves `want`: -1 for not at all, higher is better, 1000 for exact. */
function score(want: Platform, have: Platform): number {
  if (want.os !== have.os || want.architecture !== have.architecture) return -1;
  const wv = want.variant ?? '';
  const hv = have.variant ?? '';
  if (wv === hv) return 1000;
  // Older variants of the same architecture run on newer hosts: arm v7 runs v6 and v5, amd64 v3 runs v2 and v1.
  const level = (v: string): number => (v === '' ? 1 : /^v\d+$/.test(v) ? Number(v.slice(1)) : NaN);
  if (want.architecture === 'arm' || want.architecture === 'amd64') {
    const w = level(wv);
    const h = level(hv);
    if (h < w) return h;
  }
  return -1;
}

/**
 * Chooses the manifest for `want` from an index: the exact os/architecture/variant first, then the
 * newest compatible variant; the first entry wins among equals. Throws not-found listing what the
 * index offers.
 */
export function choosePlatform(index: { manifests: Descriptor[] }, want: Platform): Descriptor {
  const w = normalizePlatform(want);
  let best: Descriptor | undefined;
  let bestScore = -1;
  for (const d of index.manifests ?? []) {
    if (!d.platform || typeof d.platform.os !== 'string' || typeof d.platform.architecture !== 'string') continue;
    const s = score(w, normalizePlatform(d.platform));
    if (s > bestScore) {
      best = d;
      bestScore = s;
    }
  }
  if (best) return best;
  const available = [
    ...new Set(
      (index.manifests ?? [])
        .filter((d) => d.platform && d.platform.os !== 'unknown' && typeof d.platform.architecture === 'string')
        .map((d) => formatPlatform(d.platform as Platform)),
    ),
  ];
  throw new BerthError(
    'not-found',
    `no matching manifest for ${formatPlatform(want)} in the manifest list entries` + (available.length ? ` (available: ${available.join(', ')})` : ''),
  );
}
