/**
 * Issue 5, networks: acceptance 1 (names on a user network, none on the default bridge, no
 * traffic between networks), 2 (published ports, -P, a taken port), 3 (host, none,
 * connect/disconnect) and the network side of 5 (nothing left behind: links, namespaces,
 * iptables rules and mounts compared before and after, also after a kill -9 of berthd).
 *
 * NETWORK RULE: containers only talk to each other and to the test process on 127.0.0.1; the
 * daemon runs with --dns-forward=false and containers that do not need names get --dns 127.0.0.1.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { TestDaemon, integrationSkipReason, sleep, waitFor, type RunResult } from '../helpers/daemon';
import { addedSince, daemonTag, hostSnapshot, type HostSnapshot } from '../helpers/host-snapshot';

const skip = integrationSkipReason() ?? (fs.existsSync('/usr/lib/cni/bridge') ? undefined : 'containernetworking-plugins is not installed');

function sh(cmd: string, args: string[]): string {
  return spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '';
}

function get(port: number, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function getEventually(port: number, want: string, ms = 10_000): Promise<string> {
  let last = '';
  await waitFor(
    async () => {
      try {
        last = (await get(port)).body;
      } catch (e) {
        last = (e as Error).message;
      }
      return last.includes(want);
    },
    ms,
    `HTTP on 127.0.0.1:${port} (last: ${last})`,
  );
  return last;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** busybox httpd serving `text` at / on port 80. */
const HTTPD = (text: string): string[] => ['sh', '-c', `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`];
/** In a client container: waits for a server by name or address, then fetches it. */
const FETCH = (url: string): string => `(for i in $(seq 50); do wget -qO- ${url} && exit 0; sleep 0.1; done; exit 1)`;

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

describe('networks', { skip }, () => {
  const d = new TestDaemon('networks');
  const tag = daemonTag(d.dataRoot);
  const marks = [tag, d.dir];
  let initial: HostSnapshot;

  before(async () => {
    initial = hostSnapshot();
    await d.start();
    d.importBusybox();
  });

  after(async () => {
    const leaks = await d.cleanup();
    assert.deepEqual(leaks, [], 'the daemon left things behind');
    assert.deepEqual(addedSince(initial, hostSnapshot(), marks), [], 'links, namespaces, rules or mounts left behind');
  });

  const netId = (name: string): string => d.docker(['network', 'inspect', '-f', '{{.Id}}', name]).stdout.trim();
  const ipOf = (c: string, n: string): string => d.docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${n}").IPAddress}}`, c]).stdout.trim();
  const track = (name: string): void => {
    const id = netId(name);
    if (id) marks.push(`br-${id.slice(0, 12)}`);
  };

  test('user network: containers reach each other by name, alias and short id (docker CLI)', () => {
    assert.match(ok(d.docker(['network', 'create', 'nt-a']), 'network create').trim(), /^[0-9a-f]{64}$/);
    track('nt-a');
    const id = ok(d.docker(['run', '-d', '--name', 'nt-web', '--network', 'nt-a', '--network-alias', 'nt-alias', 'busybox', ...HTTPD('hello-nt')]), 'run web').trim();
    const out = ok(
      d.docker(['run', '--rm', '--network', 'nt-a', 'busybox', 'sh', '-c', `${FETCH('http://nt-web:80/')} && ping -c1 -W2 nt-web >/dev/null && wget -qO- http://nt-alias/ && wget -qO- http://${id.slice(0, 12)}/`]),
      'client',
    );
    assert.equal(out, 'hello-nt\nhello-nt\nhello-nt\n');
    // and through berth's CLI
    assert.equal(ok(d.berth(['run', '--rm', '--network', 'nt-a', 'busybox', 'sh', '-c', `ping -c1 -W2 nt-web >/dev/null && ${FETCH('http://nt-web/')}`]), 'berth client'), 'hello-nt\n');
    // berth's DNS answers on the gateway; the container's resolv.conf points there
    const gw = d.docker(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'nt-a']).stdout.trim();
    assert.match(ok(d.docker(['run', '--rm', '--network', 'nt-a', 'busybox', 'cat', '/etc/resolv.conf']), 'resolv.conf'), new RegExp(`^nameserver ${gw.replace(/\./g, '\\.')}$`, 'm'));
    // network inspect lists the running container
    const ins = JSON.parse(ok(d.berth(['network', 'inspect', 'nt-a']), 'inspect'))[0];
    assert.equal(ins.Containers[id].Name, 'nt-web');
    assert.equal(ins.Containers[id].IPv4Address, `${ipOf('nt-web', 'nt-a')}/24`);
    // names are not forwarded anywhere: the daemon runs with --dns-forward=false
    const r = d.docker(['run', '--rm', '--network', 'nt-a', 'busybox', 'nslookup', 'example.com']);
    assert.notEqual(r.code, 0);
  });

  test('the default bridge resolves no names, but addresses work', () => {
    ok(d.docker(['run', '-d', '--name', 'nt-bweb', '--dns', '127.0.0.1', 'busybox', ...HTTPD('hello-bridge')]), 'run');
    const ip = ipOf('nt-bweb', 'bridge');
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    const byName = d.docker(['run', '--rm', '--dns', '127.0.0.1', 'busybox', 'ping', '-c1', '-W1', 'nt-bweb']);
    assert.notEqual(byName.code, 0);
    assert.match(byName.stderr + byName.stdout, /bad address/);
    assert.equal(ok(d.docker(['run', '--rm', '--dns', '127.0.0.1', 'busybox', 'sh', '-c', FETCH(`http://${ip}/`)]), 'by address'), 'hello-bridge\n');
    assert.equal(ok(d.docker(['rm', '-f', 'nt-bweb']), 'rm'), 'nt-bweb\n');
  });

  test('a container on another network can neither reach nor resolve them', () => {
    ok(d.berth(['network', 'create', 'nt-b']), 'network create');
    track('nt-b');
    const ip = ipOf('nt-web', 'nt-a');
    const r = d.docker(['run', '--rm', '--network', 'nt-b', 'busybox', 'sh', '-c', `ping -c1 -W1 ${ip} >/dev/null && echo PING-OK; nc -w 2 ${ip} 80 </dev/null && echo TCP-OK; nslookup nt-web >/dev/null 2>&1 && echo DNS-OK; echo done`]);
    assert.equal(r.stdout, 'done\n', r.stderr);
    // and the default bridge cannot reach them either
    const r2 = d.docker(['run', '--rm', '--dns', '127.0.0.1', 'busybox', 'sh', '-c', `ping -c1 -W1 ${ip} >/dev/null && echo PING-OK; echo done`]);
    assert.equal(r2.stdout, 'done\n', r2.stderr);
  });

  test('-p 127.0.0.1:PORT:80 answers the host; a second container on that port fails and the first keeps serving (berth CLI)', async () => {
    const port = await freePort();
    ok(d.berth(['run', '-d', '--name', 'nt-pub', '--dns', '127.0.0.1', '-p', `127.0.0.1:${port}:80`, 'busybox', ...HTTPD('hello-pub')]), 'run');
    assert.equal(await getEventually(port, 'hello-pub'), 'hello-pub\n');
    assert.equal(ok(d.berth(['port', 'nt-pub']), 'port'), `80/tcp -> 127.0.0.1:${port}\n`);
    assert.match(ok(d.berth(['ps', '--format', '{{.Ports}}', '--filter', 'name=nt-pub']), 'ps'), new RegExp(`^127\\.0\\.0\\.1:${port}->80/tcp\\n$`));
    // the default bridge's ports (other daemons make veths too: only ours count)
    const ports = (): string[] => sh('ip', ['-o', 'link', 'show', 'master', `berth-${tag}`]).split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '').filter(Boolean).sort();
    const portsBefore = ports();
    for (const cli of ['berth', 'docker'] as const) {
      const name = `nt-pub2-${cli}`;
      const args = ['run', '-d', '--name', name, '--dns', '127.0.0.1', '-p', `127.0.0.1:${port}:80`, 'busybox', ...HTTPD('intruder')];
      const r = cli === 'berth' ? d.berth(args) : d.docker(args);
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, new RegExp(`Bind for 127\\.0\\.0\\.1:${port} failed: port is already allocated`));
      assert.equal(d.docker(['inspect', '-f', '{{.State.Status}} {{.State.Running}}', name]).stdout.trim(), 'created false');
      ok(d.docker(['rm', name]), 'rm');
    }
    // a namespace goes (and its veth with it) a moment after its last reference
    await waitFor(() => ports().join() === portsBefore.join(), 3000, 'the failed starts to leave no interface on the bridge');
    assert.equal((await get(port)).body, 'hello-pub\n');
    // a port taken by another process is refused the same way
    const other = net.createServer();
    const taken = await freePort();
    await new Promise<void>((r) => other.listen(taken, '127.0.0.1', () => r()));
    try {
      const r = d.docker(['run', '-d', '--name', 'nt-pub3', '--dns', '127.0.0.1', '-p', `127.0.0.1:${taken}:80`, 'busybox', 'true']);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /port is already allocated/);
      ok(d.docker(['rm', 'nt-pub3']), 'rm');
    } finally {
      other.close();
    }
  });

  test('-P publishes exposed ports on ephemeral host ports, shown by port, ps and inspect', async () => {
    ok(d.docker(['run', '-d', '--name', 'nt-all', '--dns', '127.0.0.1', '--expose', '80', '-P', 'busybox', ...HTTPD('hello-all')]), 'run');
    const line = ok(d.docker(['port', 'nt-all', '80']), 'port').trim().split('\n')[0];
    const m = /^0\.0\.0\.0:(\d+)$/.exec(line);
    assert.ok(m, line);
    const port = Number(m[1]);
    assert.ok(port >= 1024, `ephemeral port ${port}`);
    assert.equal(ok(d.berth(['port', 'nt-all', '80/tcp']), 'berth port').trim(), `0.0.0.0:${port}`);
    assert.equal(d.docker(['ps', '--format', '{{.Ports}}', '--filter', 'name=nt-all']).stdout.trim(), `0.0.0.0:${port}->80/tcp`);
    const ports = JSON.parse(d.docker(['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'nt-all']).stdout);
    assert.deepEqual(ports, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: String(port) }] });
    assert.equal(await getEventually(port, 'hello-all'), 'hello-all\n');
    const bad = d.berth(['port', 'nt-all', '81']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /No public port '81\/tcp' published for nt-all/);
  });

  test("Docker's namespace sysctls: unprivileged users may bind low ports and open ICMP echo sockets", () => {
    const out = ok(d.docker(['run', '--rm', '--user', '1000', '--dns', '127.0.0.1', 'busybox', 'sh', '-c', 'cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/ipv4/ping_group_range; nc -l -p 80 </dev/null & sleep 0.5; netstat -ltn | grep -c ":80 "']), 'run');
    assert.match(out, /^0\n0\s+2147483647\n1\n$/);
  });

  test('--network host sees the host interfaces; --network none has only lo', () => {
    const hostLinks = hostSnapshot().links.filter((l) => !l.startsWith('veth'));
    const inHost = ok(d.docker(['run', '--rm', '--network', 'host', 'busybox', 'ip', '-o', 'link']), 'host').split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0]).filter(Boolean);
    for (const l of ['lo', ...hostLinks.filter((x) => x.startsWith('eth'))]) assert.ok(inHost.includes(l), `${l} in ${inHost.join(',')}`);
    const none = ok(d.berth(['run', '--rm', '--network', 'none', 'busybox', 'ip', '-o', 'link']), 'none').trim().split('\n');
    assert.equal(none.length, 1);
    assert.match(none[0], /^1: lo:/);
    assert.equal(d.docker(['inspect', '-f', '{{.HostConfig.NetworkMode}}', 'nt-web']).stdout.trim(), 'nt-a');
  });

  test('--ip, --mac-address, --hostname, --add-host and --dns options end up in the container', () => {
    ok(d.docker(['network', 'create', '--subnet', '10.213.250.0/24', '--gateway', '10.213.250.254', 'nt-fixed']), 'create');
    track('nt-fixed');
    const out = ok(
      // (the docker CLI sends --mac-address per network, which needs API 1.44; berth sends Config.MacAddress)
      d.berth([
        'run', '--rm', '--network', 'nt-fixed', '--ip', '10.213.250.10', '--mac-address', '02:42:0a:d5:fa:99', '--hostname', 'fixed',
        '--add-host', 'extra.test:192.0.2.7', '--add-host', 'gw.test:host-gateway', '--dns-search', 'example.test', '--dns-option', 'ndots:3',
        'busybox', 'sh', '-c', 'ip -o -4 addr show eth0; cat /sys/class/net/eth0/address; hostname; cat /etc/hosts /etc/resolv.conf',
      ]),
      'run',
    );
    assert.match(out, /inet 10\.213\.250\.10\/24/);
    assert.match(out, /^02:42:0a:d5:fa:99$/m);
    assert.match(out, /^fixed$/m);
    assert.match(out, /^192\.0\.2\.7\textra\.test$/m);
    const bridgeGw = d.docker(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'bridge']).stdout.trim();
    assert.match(out, new RegExp(`^${bridgeGw.replace(/\./g, '\\.')}\\tgw\\.test$`, 'm'));
    assert.match(out, /^10\.213\.250\.10\tfixed$/m);
    assert.match(out, /^search example\.test$/m);
    assert.match(out, /^nameserver 10\.213\.250\.254$/m);
    assert.match(out, /^options ndots:3$/m);
    // --ip needs a user-configured subnet, as in Docker
    const r = d.docker(['run', '--rm', '--network', 'nt-a', '--ip', '10.213.0.9', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /user specified IP address is supported only when connecting to networks with user configured subnets/);
  });

  test('connect and disconnect add and remove an interface on a running container', () => {
    ok(d.docker(['run', '-d', '--name', 'nt-multi', '--network', 'nt-a', 'busybox', 'sleep', '300']), 'run');
    const links = (): string => ok(d.docker(['run', '--rm', '--network', 'container:nt-multi', 'busybox', 'ip', '-o', 'link']), 'links');
    assert.doesNotMatch(links(), /eth1/);
    ok(d.docker(['network', 'connect', '--alias', 'nt-second', 'nt-b', 'nt-multi']), 'connect');
    assert.match(links(), /eth1/);
    const ipB = ipOf('nt-multi', 'nt-b');
    assert.match(ipB, /^\d+\.\d+\.\d+\.\d+$/);
    // reachable on the new network by its name and alias
    ok(d.docker(['run', '--rm', '--network', 'nt-b', 'busybox', 'sh', '-c', 'ping -c1 -W2 nt-multi && ping -c1 -W2 nt-second']), 'ping on nt-b');
    const again = d.docker(['network', 'connect', 'nt-b', 'nt-multi']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already exists in network nt-b/);
    const rm = d.docker(['network', 'rm', 'nt-b']);
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr, /has active endpoints/);
    ok(d.berth(['network', 'disconnect', 'nt-b', 'nt-multi']), 'disconnect');
    assert.doesNotMatch(links(), /eth1/);
    assert.equal(d.docker(['inspect', '-f', '{{len .NetworkSettings.Networks}}', 'nt-multi']).stdout.trim(), '1');
    ok(d.docker(['rm', '-f', 'nt-multi']), 'rm');
  });

  test('--internal: no route out, names still resolve, unreachable from other networks; ps filters', () => {
    ok(d.berth(['network', 'create', '--internal', 'nt-int']), 'create');
    track('nt-int');
    assert.equal(d.docker(['network', 'inspect', '-f', '{{.Internal}}', 'nt-int']).stdout.trim(), 'true');
    ok(d.docker(['run', '-d', '--name', 'nt-in1', '--network', 'nt-int', 'busybox', ...HTTPD('hello-int')]), 'run');
    const out = ok(d.docker(['run', '--rm', '--network', 'nt-int', 'busybox', 'sh', '-c', `ip route; ${FETCH('http://nt-in1/')}`]), 'client');
    assert.doesNotMatch(out, /default/);
    assert.match(out, /hello-int/);
    const ip = ipOf('nt-in1', 'nt-int');
    const r = d.docker(['run', '--rm', 'busybox', 'sh', '-c', `ping -c1 -W1 ${ip} >/dev/null && echo PING-OK; echo done`]);
    assert.equal(r.stdout, 'done\n', r.stderr);
    // no NAT out of it either
    const subnet = d.docker(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', 'nt-int']).stdout.trim();
    assert.doesNotMatch(sh('iptables-save', ['-t', 'nat']), new RegExp(`-s ${subnet.replace(/\./g, '\\.')} .*MASQUERADE`));
    assert.equal(d.docker(['ps', '--filter', 'network=nt-int', '--format', '{{.Names}}']).stdout, 'nt-in1\n');
    const port = d.docker(['port', 'nt-all', '80']).stdout.trim().split(':')[1];
    assert.equal(d.docker(['ps', '--filter', `publish=${port}`, '--format', '{{.Names}}']).stdout, 'nt-all\n');
    assert.equal(d.docker(['ps', '--filter', 'expose=80', '--filter', 'network=nt-int', '--format', '{{.Names}}']).stdout, '');
    ok(d.docker(['rm', '-f', 'nt-in1']), 'rm');
    ok(d.docker(['network', 'rm', 'nt-int']), 'network rm');
  });

  test('-o com.docker.network.bridge.enable_icc=false: containers of the network cannot reach each other, names still resolve', () => {
    ok(d.docker(['network', 'create', '-o', 'com.docker.network.bridge.enable_icc=false', 'nt-noicc']), 'create');
    track('nt-noicc');
    ok(d.docker(['run', '-d', '--name', 'nt-ni1', '--network', 'nt-noicc', 'busybox', ...HTTPD('hello-noicc')]), 'run');
    const r = d.docker(['run', '--rm', '--network', 'nt-noicc', 'busybox', 'sh', '-c', 'nslookup nt-ni1 >/dev/null && echo DNS-OK; ping -c1 -W1 nt-ni1 >/dev/null && echo PING-OK; wget -T 2 -qO- http://nt-ni1/ && echo HTTP-OK; echo done']);
    assert.equal(r.stdout, 'DNS-OK\ndone\n', r.stderr);
    ok(d.docker(['rm', '-f', 'nt-ni1']), 'rm');
    ok(d.docker(['network', 'rm', 'nt-noicc']), 'network rm');
  });

  test('network ls filters, rm of predefined networks, prune', () => {
    const names = ok(d.berth(['network', 'ls', '--format', '{{.Name}}']), 'ls').trim().split('\n');
    for (const n of ['bridge', 'host', 'none', 'nt-a', 'nt-b']) assert.ok(names.includes(n), n);
    assert.deepEqual(ok(d.docker(['network', 'ls', '-f', 'type=builtin', '--format', '{{.Name}}']), 'ls builtin').trim().split('\n'), ['bridge', 'host', 'none']);
    ok(d.docker(['network', 'create', '--label', 'nt=prune', 'nt-unused']), 'create');
    assert.equal(ok(d.docker(['network', 'ls', '-q', '-f', 'label=nt=prune']), 'ls label').trim(), netId('nt-unused').slice(0, 12));
    for (const n of ['bridge', 'host', 'none']) {
      const r = d.docker(['network', 'rm', n]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /pre-defined network and cannot be removed/);
    }
    const p = ok(d.docker(['network', 'prune', '-f', '--filter', 'label=nt=prune']), 'prune');
    assert.equal(p, 'Deleted Networks:\nnt-unused\n\n');
  });

  test('IPv6: a dual-stack network; ping6 by address and by name, inspect fields, AAAA, /etc/hosts, --ip6; ip6tables rules go with the network', () => {
    // ULA prefixes of this daemon only (the host's own fd00::/64 is routed on its eth0)
    // (the group printed as Go and berth print it: without leading zeros)
    const prefix = `fd00:b5e7:${parseInt(tag.slice(0, 4), 16).toString(16)}`;
    ok(d.docker(['network', 'create', '--ipv6', '--subnet', `${prefix}::/64`, 'nt-v6']), 'create');
    track('nt-v6');
    const bridge = `br-${netId('nt-v6').slice(0, 12)}`;
    const net6 = JSON.parse(ok(d.docker(['network', 'inspect', 'nt-v6']), 'inspect'))[0];
    assert.equal(net6.EnableIPv6, true);
    const subnets = net6.IPAM.Config.map((c: { Subnet: string }) => c.Subnet);
    assert.equal(subnets.length, 2, JSON.stringify(net6.IPAM.Config));
    assert.match(subnets[0], /^\d+\.\d+\.\d+\.0\/24$/, 'an IPv4 subnet is chosen too');
    assert.deepEqual(net6.IPAM.Config[1], { Subnet: `${prefix}::/64`, Gateway: `${prefix}::1` });
    const id = ok(d.docker(['run', '-d', '--name', 'nt-v6a', '--network', 'nt-v6', 'busybox', 'sleep', '300']), 'run').trim();
    const ep = JSON.parse(ok(d.docker(['inspect', '-f', '{{json (index .NetworkSettings.Networks "nt-v6")}}', 'nt-v6a']), 'inspect'));
    assert.equal(ep.GlobalIPv6Address, `${prefix}::2`);
    assert.equal(ep.GlobalIPv6PrefixLen, 64);
    assert.equal(ep.IPv6Gateway, `${prefix}::1`);
    assert.equal(JSON.parse(ok(d.berth(['network', 'inspect', 'nt-v6']), 'inspect')).at(0).Containers[id].IPv6Address, `${prefix}::2/64`);
    // the second one asks for its address (--ip6, through berth's CLI)
    const out = ok(
      d.berth(['run', '--rm', '--name', 'nt-v6b', '--network', 'nt-v6', '--ip6', `${prefix}::99`, 'busybox', 'sh', '-c', `ip -6 -o addr show eth0 scope global; ping -6 -c1 -W2 ${prefix}::2 >/dev/null && echo ADDR-OK; ping -6 -c1 -W2 nt-v6a >/dev/null && echo NAME-OK; nslookup -type=AAAA nt-v6a; cat /etc/hosts`]),
      'client',
    );
    assert.match(out, new RegExp(`inet6 ${prefix}::99/64`));
    assert.match(out, /^ADDR-OK$/m);
    assert.match(out, /^NAME-OK$/m);
    assert.match(out, new RegExp(`^Address: ${prefix}::2$`, 'm'));
    assert.match(out, new RegExp(`^${prefix}::99\\t[0-9a-f]{12}$`, 'm'), 'its own IPv6 address in /etc/hosts');
    // and nt-v6a reaches the client back by name (docker CLI), over IPv6
    ok(d.docker(['run', '-d', '--name', 'nt-v6c', '--network', 'nt-v6', 'busybox', 'sleep', '300']), 'run c');
    ok(d.docker(['run', '--rm', '--network', 'container:nt-v6a', 'busybox', 'ping', '-6', '-c1', '-W2', 'nt-v6c']), 'ping6 back by name');
    // another IPv6 network can reach neither address
    ok(d.berth(['network', 'create', '--ipv6', '--subnet', `${prefix}:1::/64`, '--gateway', `${prefix}:1::fe`, 'nt-v6other']), 'create other');
    track('nt-v6other');
    assert.equal(d.docker(['network', 'inspect', '-f', '{{(index .IPAM.Config 1).Gateway}}', 'nt-v6other']).stdout.trim(), `${prefix}:1::fe`);
    const r = d.docker(['run', '--rm', '--network', 'nt-v6other', 'busybox', 'sh', '-c', `ping -6 -c1 -W1 ${prefix}::2 >/dev/null && echo PING-OK; echo done`]);
    assert.equal(r.stdout, 'done\n', r.stderr);
    const rules6 = (): string[] => sh('ip6tables-save', []).split('\n').filter((l) => l.includes(bridge));
    assert.ok(rules6().some((l) => /-j DROP/.test(l)), 'isolation rules in ip6tables');
    assert.ok(sh('ip6tables-save', ['-t', 'nat']).includes(`-s ${prefix}::/64 ! -o ${bridge} -j MASQUERADE`));
    ok(d.docker(['rm', '-f', 'nt-v6a', 'nt-v6c']), 'rm');
    ok(d.docker(['network', 'rm', 'nt-v6', 'nt-v6other']), 'network rm');
    assert.deepEqual(rules6(), [], 'no ip6tables rule names the removed bridge');
    assert.doesNotMatch(sh('ip6tables-save', ['-t', 'nat']), new RegExp(prefix));
    // an IPv6 subnet needs --ipv6
    const bad = d.docker(['network', 'create', '--subnet', `${prefix}:2::/64`, 'nt-v6bad']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /IPv6 subnet provided without --ipv6/);
  });

  test('IPv6 per interface, as Docker 26+: off on IPv4-only networks (no fe80::), on with the network; lo keeps ::1; --sysctl wins', async () => {
    const prefix = `fd00:b5e7:${parseInt(tag.slice(0, 4), 16).toString(16)}:3`;
    const probe = (ifs: string[]): string =>
      [...ifs.map((i) => `echo ${i}=$(cat /proc/sys/net/ipv6/conf/${i}/disable_ipv6); ip -6 addr show dev ${i} | grep -o 'inet6 [^ ]*'`), 'true'].join('; ');
    // the default bridge (IPv4 only): eth0 has IPv6 off and no address at all; lo and the namespace keep it
    const def = ok(d.docker(['run', '--rm', '--dns', '127.0.0.1', 'busybox', 'sh', '-c', `${probe(['eth0', 'lo'])}; cat /proc/sys/net/ipv6/conf/all/disable_ipv6`]), 'default bridge');
    assert.equal(def, 'eth0=1\nlo=0\ninet6 ::1/128\n0\n');
    assert.match(ok(d.docker(['run', '--rm', '--dns', '127.0.0.1', 'busybox', 'cat', '/etc/hosts']), 'hosts'), /^::1\tlocalhost ip6-localhost ip6-loopback$/m);
    // --network none: only lo, with ::1
    assert.equal(ok(d.docker(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', probe(['lo'])]), 'none'), 'lo=0\ninet6 ::1/128\n');
    // an IPv6 network: its address and a link-local one
    ok(d.docker(['network', 'create', '--ipv6', '--subnet', `${prefix}::/64`, 'nt-v6on']), 'create');
    track('nt-v6on');
    const on = ok(d.docker(['run', '--rm', '--network', 'nt-v6on', '--ip6', `${prefix}::9`, 'busybox', 'sh', '-c', probe(['eth0'])]), 'IPv6 network');
    assert.match(on, new RegExp(`^eth0=0\ninet6 ${prefix}::9/64\ninet6 fe80::[0-9a-f:]+/64\n$`));
    // connected while running: the new interface has IPv6, eth0 (default bridge) still has none
    ok(d.docker(['run', '-d', '--name', 'nt-v6late', '--dns', '127.0.0.1', 'busybox', 'sleep', '300']), 'run');
    ok(d.docker(['network', 'connect', '--ip6', `${prefix}::10`, 'nt-v6on', 'nt-v6late']), 'connect');
    const late = ok(d.docker(['exec', 'nt-v6late', 'sh', '-c', probe(['eth0', 'eth1'])]), 'after connect');
    assert.match(late, new RegExp(`^eth0=1\neth1=0\ninet6 ${prefix}::10/64\ninet6 fe80::[0-9a-f:]+/64\n$`));
    ok(d.docker(['rm', '-f', 'nt-v6late']), 'rm');
    // the user's --sysctl is applied after berth's: IPv6 back on eth0 (a link-local address) ...
    const back = ok(d.docker(['run', '--rm', '--dns', '127.0.0.1', '--sysctl', 'net.ipv6.conf.all.disable_ipv6=0', 'busybox', 'sh', '-c', `for i in $(seq 50); do ip -6 addr show dev eth0 | grep -q fe80 && break; sleep 0.1; done; ${probe(['eth0'])}`]), 'sysctl on');
    assert.match(back, /^eth0=0\ninet6 fe80::[0-9a-f:]+\/64\n$/);
    // ... or off everywhere: no ::1, and /etc/hosts without the IPv6 lines, as Docker writes it then
    const off = ok(d.docker(['run', '--rm', '--dns', '127.0.0.1', '--sysctl', 'net.ipv6.conf.all.disable_ipv6=1', 'busybox', 'sh', '-c', `${probe(['lo'])}; cat /etc/hosts`]), 'sysctl off');
    assert.match(off, /^lo=1\n127\.0\.0\.1\tlocalhost\n\d/);
    assert.doesNotMatch(off, /::1|ip6-/);
    ok(d.docker(['network', 'rm', 'nt-v6on']), 'network rm');
  });

  test("connect adds the container's new address to its own /etc/hosts, disconnect takes it away (docker CLI)", async () => {
    // the container watches its own /etc/hosts for a line with the nt-b address and reports
    ok(d.docker(['network', 'create', '--subnet', '10.213.249.0/24', '--ip-range', '10.213.249.128/25', 'nt-hosts']), 'create');
    track('nt-hosts');
    const watch = "until grep -q '^10\\.213\\.249\\.' /etc/hosts; do sleep 0.1; done; echo CONNECTED; grep '^10\\.213\\.249\\.' /etc/hosts; while grep -q '^10\\.213\\.249\\.' /etc/hosts; do sleep 0.1; done; echo DISCONNECTED; exec sleep 300";
    ok(d.docker(['run', '-d', '--name', 'nt-hw', '--hostname', 'hw', '--network', 'nt-a', 'busybox', 'sh', '-c', watch]), 'run');
    const ipA = ipOf('nt-hw', 'nt-a');
    ok(d.docker(['network', 'connect', 'nt-hosts', 'nt-hw']), 'connect');
    const ipH = ipOf('nt-hw', 'nt-hosts');
    assert.ok(Number(ipH.split('.')[3]) >= 128, `${ipH} is in --ip-range 10.213.249.128/25`);
    const logs = (): string => d.docker(['logs', 'nt-hw']).stdout;
    await waitFor(() => logs().includes('CONNECTED'), 10_000, 'the container to see its new address in /etc/hosts');
    assert.match(logs(), new RegExp(`^${ipH.replace(/\./g, '\\.')}\\thw$`, 'm'));
    ok(d.docker(['network', 'disconnect', 'nt-hosts', 'nt-hw']), 'disconnect');
    await waitFor(() => logs().includes('DISCONNECTED'), 10_000, 'the line to go from /etc/hosts');
    const hosts = fs.readFileSync(d.docker(['inspect', '-f', '{{.HostsPath}}', 'nt-hw']).stdout.trim(), 'utf8');
    assert.match(hosts, new RegExp(`^${ipA.replace(/\./g, '\\.')}\\thw$`, 'm'), 'the first network\'s line stays');
    assert.doesNotMatch(hosts, /10\.213\.249\./);
    ok(d.docker(['rm', '-f', 'nt-hw']), 'rm');
    ok(d.docker(['network', 'rm', 'nt-hosts']), 'network rm');
  });

  test('--dns-search, --dns-option and --add-host host-gateway through the docker CLI on the default bridge', () => {
    const out = ok(d.docker(['run', '--rm', '--dns-search', 'ex.test', '--dns-option', 'ndots:2', '--add-host', 'gw.test:host-gateway', 'busybox', 'sh', '-c', 'cat /etc/resolv.conf /etc/hosts']), 'run');
    assert.match(out, /^search ex\.test$/m);
    assert.match(out, /^nameserver 127\.0\.0\.1$/m);
    assert.match(out, /^options ndots:2$/m);
    const gw = d.docker(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'bridge']).stdout.trim();
    assert.match(out, new RegExp(`^${gw.replace(/\./g, '\\.')}\\tgw\\.test$`, 'm'));
  });

  test('--link NAME:ALIAS: on the default bridge a hosts entry, environment, reachable by the alias; on a user network an alias for the linking container only', () => {
    ok(d.docker(['run', '-d', '--name', 'nt-db', '--hostname', 'dbhost', '--dns', '127.0.0.1', '--expose', '5432', '-e', 'SECRET=s3', 'busybox', 'sleep', '300']), 'run db');
    const ip = ipOf('nt-db', 'bridge');
    const out = ok(d.docker(['run', '--rm', '--name', 'nt-web2', '--dns', '127.0.0.1', '--link', 'nt-db:my-db', 'busybox', 'sh', '-c', 'env | sort; cat /etc/hosts; ping -c1 -W2 my-db >/dev/null && echo PING-OK']), 'run linked');
    assert.match(out, /^MY_DB_NAME=\/nt-web2\/my-db$/m);
    assert.match(out, new RegExp(`^MY_DB_PORT=tcp://${ip.replace(/\./g, '\\.')}:5432$`, 'm'));
    assert.match(out, new RegExp(`^MY_DB_PORT_5432_TCP_ADDR=${ip.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(out, /^MY_DB_ENV_SECRET=s3$/m);
    assert.match(out, new RegExp(`^${ip.replace(/\./g, '\\.')}\\tmy-db dbhost nt-db$`, 'm'));
    assert.match(out, /^PING-OK$/m);
    assert.match(ok(d.berth(['run', '--rm', '--dns', '127.0.0.1', '--link', 'nt-db', 'busybox', 'sh', '-c', 'echo $NT_DB_ENV_SECRET; ping -c1 -W2 nt-db >/dev/null && echo PING-OK']), 'berth --link'), /^s3\nPING-OK\n$/);
    // (--pull never: the CLI answers a 404 from create by pulling the image)
    const r = d.docker(['run', '--rm', '--pull', 'never', '--dns', '127.0.0.1', '--link', 'nt-nosuch:x', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /nt-nosuch/);
    // on a user network a link is a name only the linking container resolves
    const viaLink = d.docker(['run', '--rm', '--network', 'nt-a', '--link', 'nt-web:nt-weblink', 'busybox', 'sh', '-c', `${FETCH('http://nt-weblink/')}; nslookup nt-weblink >/dev/null 2>&1 && echo NSLOOKUP-OK; true`]);
    assert.equal(viaLink.stdout, 'hello-nt\nNSLOOKUP-OK\n', viaLink.stderr);
    const noLink = d.docker(['run', '--rm', '--network', 'nt-a', 'busybox', 'sh', '-c', 'nslookup nt-weblink >/dev/null 2>&1 && echo RESOLVED; echo done']);
    assert.equal(noLink.stdout, 'done\n', noLink.stderr);
    // a link to a container that does not run refuses the start
    ok(d.docker(['create', '--name', 'nt-l2', '--dns', '127.0.0.1', '--link', 'nt-db:x', 'busybox', 'true']), 'create');
    ok(d.docker(['kill', 'nt-db']), 'kill');
    const st = d.docker(['start', 'nt-l2']);
    assert.notEqual(st.code, 0);
    assert.match(st.stderr, /Cannot link to a non running container: \/nt-db AS \/nt-l2\/x/);
    ok(d.docker(['rm', '-f', 'nt-db', 'nt-l2']), 'rm');
  });

  test('after kill -9 of berthd: still reachable, names still resolve; rm leaves nothing', async () => {
    const port = await freePort();
    ok(d.docker(['run', '-d', '--name', 'nt-crash', '--network', 'nt-a', '-p', `127.0.0.1:${port}:80`, 'busybox', ...HTTPD('hello-crash')]), 'run');
    await getEventually(port, 'hello-crash');
    await d.crash();
    assert.equal((await get(port)).body, 'hello-crash\n', 'rules outlive the daemon');
    await d.start();
    assert.equal((await get(port)).body, 'hello-crash\n');
    assert.equal(ok(d.docker(['run', '--rm', '--network', 'nt-a', 'busybox', 'sh', '-c', FETCH('http://nt-crash/')]), 'by name after restart'), 'hello-crash\n');
    // a second container still cannot take the port: the restarted daemon holds it again
    const r = d.docker(['run', '-d', '--name', 'nt-crash2', '--dns', '127.0.0.1', '-p', `127.0.0.1:${port}:80`, 'busybox', 'true']);
    assert.equal(r.code, 125, r.stderr);
    ok(d.docker(['rm', '-f', 'nt-crash2']), 'rm');
    // a container that dies while berthd is away is cleaned up by the next start
    ok(d.docker(['run', '-d', '--name', 'nt-dies', '--network', 'nt-a', 'busybox', 'sh', '-c', 'sleep 2']), 'run');
    await d.crash();
    await sleep(2500);
    await d.start();
    assert.equal(d.docker(['inspect', '-f', '{{.State.Status}}', 'nt-dies']).stdout.trim(), 'exited');
    const netnsDir = `${d.execRoot}/netns`;
    const running = new Set(['nt-web', 'nt-all', 'nt-pub', 'nt-crash'].map((n) => d.docker(['inspect', '-f', '{{.Id}}', n]).stdout.trim()));
    assert.deepEqual(fs.readdirSync(netnsDir).filter((f) => !running.has(f)), [], 'the dead container left its namespace');
    ok(d.docker(['rm', '-f', 'nt-web', 'nt-all', 'nt-pub', 'nt-crash', 'nt-dies']), 'rm');
    assert.deepEqual(fs.readdirSync(netnsDir), []);
    for (const n of ['nt-a', 'nt-b', 'nt-fixed']) ok(d.docker(['network', 'rm', n]), `network rm ${n}`);
    await assert.rejects(get(port));
  });
});

describe('IPv6 on the default bridge (daemon --ipv6 --fixed-cidr-v6), --host-gateway-ip', { skip }, () => {
  const prefix = `fd00:b5e7:${crypto.randomInt(0x1000, 0x10000).toString(16)}:6`; // (no leading zero: addresses print without them)
  const d = new TestDaemon('networks6', ['--ipv6', '--fixed-cidr-v6', `${prefix}::/64`, '--host-gateway-ip', '192.0.2.10']);
  let initial: HostSnapshot;

  before(async () => {
    initial = hostSnapshot();
    await d.start();
    d.importBusybox();
  });

  after(async () => {
    assert.deepEqual(await d.cleanup(), [], 'the daemon left things behind');
    assert.deepEqual(addedSince(initial, hostSnapshot(), [daemonTag(d.dataRoot), d.dir, prefix]), [], 'links, namespaces, rules or mounts left behind');
  });

  test('containers on the default bridge get IPv6 addresses and reach each other over IPv6; the subnet survives a restart', async () => {
    const cfg = (): unknown => JSON.parse(ok(d.docker(['network', 'inspect', '-f', '{{json .IPAM.Config}}', 'bridge']), 'inspect'));
    assert.deepEqual((cfg() as unknown[])[1], { Subnet: `${prefix}::/64`, Gateway: `${prefix}::1` });
    assert.equal(d.docker(['network', 'inspect', '-f', '{{.EnableIPv6}}', 'bridge']).stdout.trim(), 'true');
    ok(d.docker(['run', '-d', '--name', 'b6', '--dns', '127.0.0.1', 'busybox', 'sleep', '300']), 'run');
    const v6 = d.docker(['inspect', '-f', '{{.NetworkSettings.GlobalIPv6Address}} {{.NetworkSettings.GlobalIPv6PrefixLen}} {{.NetworkSettings.IPv6Gateway}}', 'b6']).stdout.trim();
    assert.equal(v6, `${prefix}::2 64 ${prefix}::1`);
    assert.match(ok(d.berth(['run', '--rm', '--dns', '127.0.0.1', 'busybox', 'sh', '-c', `ping -6 -c1 -W2 ${prefix}::2 >/dev/null && echo OK`]), 'ping6'), /^OK$/m);
    // (and this daemon has --host-gateway-ip)
    assert.match(ok(d.docker(['run', '--rm', '--dns', '127.0.0.1', '--add-host', 'gw.test:host-gateway', 'busybox', 'cat', '/etc/hosts']), 'hosts'), /^192\.0\.2\.10\tgw\.test$/m);
    ok(d.docker(['rm', '-f', 'b6']), 'rm');
    await d.stop();
    await d.start();
    assert.deepEqual((cfg() as unknown[])[1], { Subnet: `${prefix}::/64`, Gateway: `${prefix}::1` });
  });
});
