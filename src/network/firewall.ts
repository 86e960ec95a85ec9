/**
 * berth's packet filter and NAT rules, in chains of its own so that several daemons (and a
 * dockerd) share one host: `BERTH[-<tag>]-FORWARD` and `-ISOLATION` in the filter table,
 * `-DNAT` and `-POSTROUTING` in the nat table, each reached by one jump from the built-in chain.
 *
 * The content of the chains is derived from the daemon's state (networks and published ports)
 * and replaced as a whole with one `iptables-restore --noflush` per change: the kernel swaps it
 * in one transaction, and after a crash the restarted daemon rewrites it from the database.
 *
 * Published ports are DNAT rules (PREROUTING for traffic from outside, OUTPUT for the host's own)
 * to the container's address. 127.0.0.1 works too: the bridge gets route_localnet=1 and the
 * loopback source is masqueraded on its way to the bridge (what dockerd does with
 * `--userland-proxy=false`), so no proxy process sits in the data path.
 *
 * Dual-stack networks get the same isolation, forwarding and masquerade rules for their IPv6
 * subnet from ip6tables, in chains of the same names. Those chains exist only while the daemon
 * has (or had, before a crash) an IPv6 network. Published ports are IPv4 only.
 */
import { spawn } from 'node:child_process';

export interface FirewallNetwork {
  bridge: string;
  subnet: string;
  /** Dual-stack networks: the IPv6 subnet. */
  subnet6?: string;
  internal: boolean;
  masquerade: boolean;
  /** Containers on the network may talk to each other (`com.docker.network.bridge.enable_icc`); default true. */
  icc?: boolean;
}

export interface FirewallPort {
  proto: 'tcp' | 'udp';
  /** '' or 0.0.0.0: every local address. */
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
  bridge: string;
}

export interface ChainNames {
  forward: string;
  isolation: string;
  dnat: string;
  postrouting: string;
}

export function chainNames(tag: string): ChainNames {
  const p = tag ? `BERTH-${tag}` : 'BERTH';
  return { forward: `${p}-FORWARD`, isolation: `${p}-ISOLATION`, dnat: `${p}-DNAT`, postrouting: `${p}-POSTROUTING` };
}

/** The jumps from the built-in chains: [table, chain, position ('I' first, 'A' last), rule]. */
export function jumps(c: ChainNames): [string, string, 'I' | 'A', string[]][] {
  return [
    ['filter', 'FORWARD', 'I', ['-j', c.forward]],
    ['nat', 'PREROUTING', 'A', ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', c.dnat]],
    ['nat', 'OUTPUT', 'A', ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', c.dnat]],
    ['nat', 'POSTROUTING', 'A', ['-j', c.postrouting]],
  ];
}

export type Family = 4 | 6;

const TOOLS: Record<Family, { cmd: string; restore: string }> = {
  4: { cmd: 'iptables', restore: 'iptables-restore' },
  6: { cmd: 'ip6tables', restore: 'ip6tables-restore' },
};

/** ip6tables' view of the state: the dual-stack networks with their IPv6 subnet, no ports. */
export function ipv6View(networks: FirewallNetwork[]): FirewallNetwork[] {
  return networks.flatMap((n) => (n.subnet6 ? [{ ...n, subnet: n.subnet6 }] : []));
}

/** iptables-restore input (for --noflush) that replaces the content of berth's chains. */
export function renderRules(c: ChainNames, networks: FirewallNetwork[], ports: FirewallPort[]): string {
  const f: string[] = ['*filter', `:${c.forward} - [0:0]`, `:${c.isolation} - [0:0]`];
  // Traffic between two of berth's networks goes nowhere (ISOLATION drops it, returns otherwise).
  for (const n of networks) f.push(`-A ${c.forward} -i ${n.bridge} ! -o ${n.bridge} -j ${c.isolation}`);
  for (const n of networks) f.push(`-A ${c.isolation} -o ${n.bridge} -j DROP`);
  // enable_icc=false: nothing from one container of the network to another.
  for (const n of networks.filter((x) => x.icc === false)) f.push(`-A ${c.forward} -i ${n.bridge} -o ${n.bridge} -j DROP`);
  // Internal networks: nothing in or out but their own bridge.
  for (const n of networks.filter((x) => x.internal)) {
    f.push(`-A ${c.forward} -i ${n.bridge} ! -o ${n.bridge} -j DROP`);
    f.push(`-A ${c.forward} -o ${n.bridge} ! -i ${n.bridge} -j DROP`);
  }
  for (const p of ports) {
    f.push(`-A ${c.forward} -d ${p.containerIp}/32 ! -i ${p.bridge} -o ${p.bridge} -p ${p.proto} -m ${p.proto} --dport ${p.containerPort} -j ACCEPT`);
  }
  for (const n of networks) {
    f.push(`-A ${c.forward} -o ${n.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
    f.push(`-A ${c.forward} -i ${n.bridge} -j ACCEPT`);
    // Nothing else reaches a container from outside its network: only published ports do.
    f.push(`-A ${c.forward} -o ${n.bridge} -j DROP`);
  }
  f.push('COMMIT');

  const n: string[] = ['*nat', `:${c.dnat} - [0:0]`, `:${c.postrouting} - [0:0]`];
  for (const p of ports) {
    const dst = p.hostIp && p.hostIp !== '0.0.0.0' ? ` -d ${p.hostIp}/32` : '';
    n.push(`-A ${c.dnat}${dst} -p ${p.proto} -m ${p.proto} --dport ${p.hostPort} -j DNAT --to-destination ${p.containerIp}:${p.containerPort}`);
  }
  for (const net of networks) {
    if (!net.internal && net.masquerade) n.push(`-A ${c.postrouting} -s ${net.subnet} ! -o ${net.bridge} -j MASQUERADE`);
    // The host's own connections through a published port (127.0.0.1 included) come back to it.
    n.push(`-A ${c.postrouting} -o ${net.bridge} -m addrtype --src-type LOCAL -j MASQUERADE`);
  }
  for (const p of ports) {
    // hairpin: a container reaching itself through its published port
    n.push(`-A ${c.postrouting} -s ${p.containerIp}/32 -d ${p.containerIp}/32 -p ${p.proto} -m ${p.proto} --dport ${p.containerPort} -j MASQUERADE`);
  }
  n.push('COMMIT');
  return [...f, ...n].join('\n') + '\n';
}

export interface CommandRunner {
  (bin: string, args: string[], input?: string): Promise<{ code: number; stderr: string }>;
}

export const runCommand: CommandRunner = (bin, args, input) =>
  new Promise((resolve) => {
    const p = spawn(bin, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (c) => (stderr += c));
    p.on('error', (e) => resolve({ code: -1, stderr: e.message }));
    p.on('close', (code) => resolve({ code: code ?? -1, stderr }));
    p.stdin.on('error', () => undefined);
    p.stdin.end(input ?? '');
  });

export class Firewall {
  readonly chains: ChainNames;
  private running: Promise<void> = Promise.resolve();
  private queued?: Promise<void>;
  /** berth's ip6tables chains and jumps exist. */
  private v6 = false;

  constructor(
    tag: string,
    private readonly state: () => { networks: FirewallNetwork[]; ports: FirewallPort[] },
    private readonly run: CommandRunner = runCommand,
  ) {
    this.chains = chainNames(tag);
  }

  /**
   * Creates the chains (empty) and the jumps to them, once; the ip6tables ones when there are
   * IPv6 networks or when a crashed run left them.
   */
  async init(): Promise<void> {
    await this.initFamily(4);
    const left = (await this.run('ip6tables', ['-w', '-t', 'filter', '-S', this.chains.forward])).code === 0;
    if (left || ipv6View(this.state().networks).length) await this.initFamily(6);
  }

  private async initFamily(family: Family): Promise<void> {
    const { cmd } = TOOLS[family];
    await this.restore(renderRules(this.chains, [], []), family);
    for (const [table, chain, pos, rule] of jumps(this.chains)) {
      const check = await this.run(cmd, ['-w', '-t', table, '-C', chain, ...rule]);
      if (check.code === 0) continue;
      const r = await this.run(cmd, ['-w', '-t', table, pos === 'I' ? '-I' : '-A', chain, ...(pos === 'I' ? ['1'] : []), ...rule]);
      if (r.code !== 0) throw new Error(`${cmd}: cannot add the jump to ${this.chains.forward}: ${r.stderr.trim()}`);
    }
    if (family === 6) this.v6 = true;
  }

  /**
   * Rewrites the chains from the current state. Calls made while a rewrite runs share the next
   * one, which starts after it and sees their changes.
   */
  sync(): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.running.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      this.queued = undefined;
      return this.rewrite();
    });
    this.queued = next;
    this.running = next;
    return next;
  }

  private async rewrite(): Promise<void> {
    const { networks, ports } = this.state();
    await this.restore(renderRules(this.chains, networks, ports), 4);
    const v6 = ipv6View(networks);
    if (!v6.length && !this.v6) return;
    if (!this.v6) await this.initFamily(6);
    await this.restore(renderRules(this.chains, v6, []), 6);
  }

  /** Removes the jumps and the chains. */
  async remove(): Promise<void> {
    await this.running.catch(() => undefined);
    await this.removeFamily(4);
    if (this.v6) await this.removeFamily(6);
    this.v6 = false;
  }

  private async removeFamily(family: Family): Promise<void> {
    const { cmd } = TOOLS[family];
    for (const [table, chain, , rule] of jumps(this.chains)) {
      for (let i = 0; i < 10; i++) {
        if ((await this.run(cmd, ['-w', '-t', table, '-D', chain, ...rule])).code !== 0) break;
      }
    }
    const c = this.chains;
    for (const [table, names] of [
      ['filter', [c.forward, c.isolation]],
      ['nat', [c.dnat, c.postrouting]],
    ] as const) {
      for (const n of names) await this.run(cmd, ['-w', '-t', table, '-F', n]);
      for (const n of names) await this.run(cmd, ['-w', '-t', table, '-X', n]);
    }
  }

  private async restore(text: string, family: Family): Promise<void> {
    const { restore } = TOOLS[family];
    const r = await this.run(restore, ['-w', '--noflush'], text);
    if (r.code !== 0) throw new Error(`${restore}: ${r.stderr.trim()}`);
  }
}
