/**
 * What the network benchmarks share: the docker CLI against either engine, and a dockerd with
 * its default networking (bridge, iptables, masquerade) whose traces are removed afterwards: the
 * rules it added to the built-in chains, its DOCKER* chains, its bridges and its change to the
 * FORWARD policy.
 */
import { spawnSync } from 'node:child_process';
import { DOCKER } from '../test/helpers/daemon';
import { withDockerd } from './dockerd';

export function docker(host: string, args: string[]): string {
  return dockerOut(host, args).stdout;
}

export function dockerOut(host: string, args: string[]): { stdout: string; stderr: string } {
  const r = spawnSync(DOCKER, args, { env: { ...process.env, DOCKER_HOST: host }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} against ${host}: ${r.stderr}`);
  return r;
}

/** Like docker() but never throws (cleanup). */
export function dockerQuiet(host: string, args: string[]): void {
  spawnSync(DOCKER, args, { env: { ...process.env, DOCKER_HOST: host } });
}

function iptablesLines(table: string): string[] {
  return spawnSync('iptables-save', ['-t', table], { encoding: 'utf8' }).stdout.split('\n');
}

function links(): Set<string> {
  return new Set(spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(':')[1]?.trim() ?? ''));
}

function cleanDockerRules(rulesBefore: Set<string>, bridgesBefore: Set<string>, forwardPolicy: string): void {
  for (const table of ['filter', 'nat']) {
    const lines = iptablesLines(table);
    for (const l of lines) {
      if (!l.startsWith('-A ') || rulesBefore.has(`${table} ${l}`)) continue;
      const chain = l.split(' ')[1];
      if (!/^(INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING)$/.test(chain)) continue; // DOCKER* chains are flushed below
      if (/DOCKER|docker0|br-[0-9a-f]{12}/.test(l)) spawnSync('sh', ['-c', `iptables -w -t ${table} ${l.replace(/^-A /, '-D ')}`]);
    }
    const chains = lines.filter((l) => /^:DOCKER/.test(l)).map((l) => l.slice(1).split(' ')[0]);
    for (const c of chains) spawnSync('iptables', ['-w', '-t', table, '-F', c]);
    for (const c of chains) spawnSync('iptables', ['-w', '-t', table, '-X', c]);
  }
  spawnSync('iptables', ['-w', '-P', 'FORWARD', forwardPolicy]);
  spawnSync('ip', ['link', 'del', 'docker0']);
  for (const name of links()) if (!bridgesBefore.has(name) && /^br-[0-9a-f]{12}$/.test(name)) spawnSync('ip', ['link', 'del', name]);
}

/**
 * Runs fn against a fresh dockerd with its default networking and busybox imported from
 * `busyboxTar`; undefined (with the reason printed) when dockerd is missing or another one owns
 * docker0.
 */
export async function withNetworkedDockerd<T>(busyboxTar: string, fn: (host: string) => Promise<T>): Promise<T | undefined> {
  if (spawnSync('ip', ['link', 'show', 'docker0']).status === 0) {
    console.log('dockerd: docker0 exists already (another dockerd?), not measured');
    return undefined;
  }
  const policy = /^:FORWARD (\w+)/m.exec(iptablesLines('filter').join('\n'))?.[1] ?? 'ACCEPT';
  const rulesBefore = new Set(['filter', 'nat'].flatMap((t) => iptablesLines(t).map((l) => `${t} ${l}`)));
  const bridgesBefore = links();
  try {
    const r = await withDockerd(
      async (host) => {
        docker(host, ['import', '-c', 'CMD ["sh"]', busyboxTar, 'busybox']);
        return fn(host);
      },
      ['--iptables=true', '--ip-masq=true'],
    );
    if (r === undefined) console.log('dockerd: not installed (apt-get install docker.io), no ratio');
    return r;
  } finally {
    cleanDockerRules(rulesBefore, bridgesBefore, policy);
  }
}
