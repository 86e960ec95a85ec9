/**
 * Issue 5, acceptance 5: what berth leaves on the host, by comparison. A snapshot holds the
 * links (`ip link`), named namespaces (`ip netns`), rules (`iptables-save`, `ip6tables-save`,
 * filter and nat tables) and mount points; added() lists what appeared since an earlier one and
 * names one of a test's marks (its daemon's tag, bridges and directory): other engines and
 * other tests' daemons work on the same machine at the same time.
 */
import fs from 'node:fs';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';

export interface HostSnapshot {
  links: string[];
  netns: string[];
  rules: string[];
  mounts: string[];
}

function sh(cmd: string, args: string[]): string {
  return spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '';
}

export function hostSnapshot(): HostSnapshot {
  return {
    links: sh('ip', ['-o', 'link']).split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '').filter(Boolean),
    netns: sh('ip', ['netns']).split('\n').filter(Boolean),
    rules: ['iptables-save', 'ip6tables-save']
      .flatMap((cmd) => [...sh(cmd, []).split('\n'), ...sh(cmd, ['-t', 'nat']).split('\n')].map((l) => `${cmd}: ${l}`))
      .filter((l) => !/: (#.*)?$/.test(l))
      .map((l) => l.replace(/\[\d+:\d+\]/g, '')),
    mounts: fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter(Boolean),
  };
}

/** What is in `after` and not in `before` and names one of `marks` (any new named namespace counts). */
export function addedSince(before: HostSnapshot, after: HostSnapshot, marks: string[]): string[] {
  const out: string[] = [];
  for (const k of Object.keys(before) as (keyof HostSnapshot)[]) {
    const old = new Set(before[k]);
    for (const x of after[k]) if (!old.has(x) && (k === 'netns' || marks.some((m) => x.includes(m)))) out.push(`${k}: ${x}`);
  }
  return out;
}

/** The tag berthd derives from a non-default data root: it names its chains and default bridge. */
export function daemonTag(dataRoot: string): string {
  return crypto.createHash('sha256').update(dataRoot).digest('hex').slice(0, 8);
}
