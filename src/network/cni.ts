/**
 * CNI plugin invocation (CNI spec 1.0): the plugin binary runs with CNI_COMMAND, CNI_CONTAINERID,
 * CNI_NETNS, CNI_IFNAME and CNI_PATH in its environment and the network configuration on stdin;
 * it prints a result (ADD) or an error object. berth uses the reference plugins for plumbing
 * only: `loopback`, and `bridge` with the `static` IPAM plugin fed the address berth's own IPAM
 * chose. NAT, published ports and isolation are berth's (see firewall.ts), so `ipMasq` is off.
 */
import { spawn } from 'node:child_process';
import { BerthError } from '../core/errors';

export const CNI_VERSION = '1.0.0';

export interface CniEnv {
  containerId: string;
  netns: string;
  ifname: string;
}

export interface CniResult {
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
}

export class CniError extends BerthError {
  constructor(
    readonly plugin: string,
    readonly code: number,
    msg: string,
  ) {
    super('internal', `CNI ${plugin}: ${msg}`);
  }
}

export interface BridgeConfInput {
  network: string;
  bridge: string;
  mtu: number;
  address: string; // ip/prefix
  gateway: string;
  /** A dual-stack network's IPv6 address (ip/prefix) and gateway. */
  v6?: { address: string; gateway: string };
  mac: string;
  defaultRoute: boolean;
}

/** The `bridge` plugin's configuration with `static` IPAM: one fixed address, optional default route. */
export function bridgeConf(i: BridgeConfInput): Record<string, unknown> {
  return {
    cniVersion: CNI_VERSION,
    name: i.network,
    type: 'bridge',
    bridge: i.bridge,
    isGateway: true,
    ipMasq: false,
    hairpinMode: true,
    mtu: i.mtu,
    capabilities: { mac: true },
    runtimeConfig: { mac: i.mac },
    ipam: {
      type: 'static',
      addresses: [{ address: i.address, gateway: i.gateway }, ...(i.v6 ? [i.v6] : [])],
      routes: i.defaultRoute ? [{ dst: '0.0.0.0/0' }, ...(i.v6 ? [{ dst: '::/0' }] : [])] : [],
    },
  };
}

export function loopbackConf(): Record<string, unknown> {
  return { cniVersion: CNI_VERSION, name: 'lo', type: 'loopback' };
}

export class CniRunner {
  constructor(readonly pluginDir = '/usr/lib/cni') {}

  exec(command: 'ADD' | 'DEL' | 'CHECK', conf: Record<string, unknown>, env: CniEnv): Promise<CniResult> {
    const plugin = String(conf.type);
    return new Promise((resolve, reject) => {
      const p = spawn(`${this.pluginDir}/${plugin}`, [], {
        env: {
          PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
          CNI_COMMAND: command,
          CNI_CONTAINERID: env.containerId,
          CNI_NETNS: env.netns,
          CNI_IFNAME: env.ifname,
          CNI_PATH: this.pluginDir,
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      p.stdout.on('data', (c) => (out += c));
      p.stderr.on('data', (c) => (err += c));
      p.on('error', (e) => reject(new CniError(plugin, -1, e.message)));
      p.on('close', (code) => {
        if (code === 0) {
          try {
            resolve(out.trim() ? (JSON.parse(out) as CniResult) : {});
          } catch {
            resolve({});
          }
          return;
        }
        let msg = err.trim() || `exit status ${code}`;
        let c = -1;
        try {
          const o = JSON.parse(out) as { code?: number; msg?: string; details?: string };
          c = o.code ?? -1;
          msg = [o.msg, o.details].filter(Boolean).join(': ') || msg;
        } catch {
          /* not JSON */
        }
        reject(new CniError(plugin, c, msg));
      });
      p.stdin.on('error', () => undefined);
      p.stdin.end(JSON.stringify(conf));
    });
  }
}
