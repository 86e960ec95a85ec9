import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Firewall, chainNames, ipv6View, renderRules } from './firewall';

const c = chainNames('1a2b3c4d');

test('chain names: per daemon, within iptables limits', () => {
  assert.deepEqual(chainNames(''), { forward: 'BERTH-FORWARD', isolation: 'BERTH-ISOLATION', dnat: 'BERTH-DNAT', postrouting: 'BERTH-POSTROUTING' });
  for (const n of Object.values(c)) assert.ok(n.length <= 28, n);
});

test('rules: isolation, internal networks, published ports, masquerade', () => {
  const text = renderRules(
    c,
    [
      { bridge: 'br-a', subnet: '10.213.1.0/24', internal: false, masquerade: true },
      { bridge: 'br-i', subnet: '10.213.2.0/24', internal: true, masquerade: true, icc: false },
    ],
    [{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, containerIp: '10.213.1.2', containerPort: 80, bridge: 'br-a' }],
  );
  const lines = text.split('\n');
  // every chain is declared (and so replaced as a whole) in the transaction
  for (const n of Object.values(c)) assert.ok(lines.includes(`:${n} - [0:0]`), n);
  assert.ok(lines.includes('-A BERTH-1a2b3c4d-ISOLATION -o br-i -j DROP'));
  assert.ok(lines.includes('-A BERTH-1a2b3c4d-FORWARD -i br-a ! -o br-a -j BERTH-1a2b3c4d-ISOLATION'));
  assert.ok(lines.includes('-A BERTH-1a2b3c4d-FORWARD -i br-i ! -o br-i -j DROP'));
  assert.ok(lines.includes('-A BERTH-1a2b3c4d-FORWARD -i br-i -o br-i -j DROP'), 'enable_icc=false');
  assert.ok(!lines.includes('-A BERTH-1a2b3c4d-FORWARD -i br-a -o br-a -j DROP'));
  assert.ok(lines.indexOf('-A BERTH-1a2b3c4d-FORWARD -i br-i -o br-i -j DROP') < lines.indexOf('-A BERTH-1a2b3c4d-FORWARD -i br-i -j ACCEPT'));
  assert.ok(lines.includes('-A BERTH-1a2b3c4d-DNAT -d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.213.1.2:80'));
  assert.ok(lines.includes('-A BERTH-1a2b3c4d-POSTROUTING -s 10.213.1.0/24 ! -o br-a -j MASQUERADE'));
  assert.ok(!lines.some((l) => l.includes('-s 10.213.2.0/24')), 'no NAT out of an internal network');
  // isolation comes before the accepts
  assert.ok(lines.indexOf('-A BERTH-1a2b3c4d-FORWARD -i br-a ! -o br-a -j BERTH-1a2b3c4d-ISOLATION') < lines.indexOf('-A BERTH-1a2b3c4d-FORWARD -i br-a -j ACCEPT'));
  assert.equal(lines.filter((l) => l === 'COMMIT').length, 2);
});

test('sync: one restore per burst of changes, each caller answered after its change is in', async () => {
  const calls: string[] = [];
  let state = 0;
  const fw = new Firewall('t', () => ({ networks: [{ bridge: `b${state}`, subnet: '10.0.0.0/24', internal: false, masquerade: false }], ports: [] }), async (bin, args, input) => {
    calls.push(`${bin} ${args.join(' ')} ${input?.includes(`-i b${state} `) ? state : '?'}`);
    await new Promise((r) => setTimeout(r, 5));
    return { code: 0, stderr: '' };
  });
  state = 1;
  const a = fw.sync();
  assert.equal(fw.sync(), a, 'calls before the rewrite starts share it');
  await new Promise((r) => setTimeout(r, 1)); // a's rewrite has read the state
  state = 2;
  const c = fw.sync();
  assert.notEqual(c, a, 'a change after the rewrite started gets a rewrite of its own');
  await Promise.all([a, c]);
  assert.deepEqual(calls, ['iptables-restore -w --noflush 1', 'iptables-restore -w --noflush 2']);
});

test('IPv6: dual-stack networks get the same rules from ip6tables; the chains appear with the first such network', async () => {
  const nets = [
    { bridge: 'br-a', subnet: '10.213.1.0/24', internal: false, masquerade: true },
    { bridge: 'br-6', subnet: '10.213.2.0/24', subnet6: 'fd00:b::/64', internal: false, masquerade: true },
  ];
  const v6 = ipv6View(nets);
  assert.deepEqual(v6.map((n) => [n.bridge, n.subnet]), [['br-6', 'fd00:b::/64']]);
  const lines = renderRules(c, v6, []).split('\n');
  assert.ok(lines.includes('-A BERTH-1a2b3c4d-POSTROUTING -s fd00:b::/64 ! -o br-6 -j MASQUERADE'));
  assert.ok(lines.includes('-A BERTH-1a2b3c4d-ISOLATION -o br-6 -j DROP'));
  assert.ok(!lines.some((l) => l.includes('br-a')));
  const calls: string[] = [];
  let state = nets.slice(0, 1);
  const fw = new Firewall('t', () => ({ networks: state, ports: [] }), async (bin, args) => {
    calls.push(`${bin} ${args.slice(0, 4).join(' ')}`);
    return { code: bin === 'ip6tables' && args.includes('-S') ? 1 : bin === 'ip6tables' && args.includes('-C') ? 1 : 0, stderr: '' };
  });
  await fw.init();
  assert.ok(!calls.some((x) => x.startsWith('ip6tables-restore')), 'no IPv6 chains without an IPv6 network');
  state = nets;
  calls.length = 0;
  await fw.sync();
  assert.equal(calls[0], 'iptables-restore -w --noflush');
  assert.ok(calls.includes('ip6tables -w -t filter -I'), 'the jumps are added');
  assert.equal(calls.at(-1), 'ip6tables-restore -w --noflush');
  calls.length = 0;
  await fw.remove();
  assert.ok(calls.some((x) => x.startsWith('ip6tables -w -t filter')), 'the IPv6 chains are removed too');
});
