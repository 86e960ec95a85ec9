import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Firewall, chainNames, renderRules } from './firewall';

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
      { bridge: 'br-i', subnet: '10.213.2.0/24', internal: true, masquerade: true },
    ],
    [{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, containerIp: '10.213.1.2', containerPort: 80, bridge: 'br-a' }],
  );
  const lines = text.split('\n');
  // every chain is declared (and so replaced as a whole) in the transaction
  for (const n of Object.values(c)) assert.ok(lines.includes(`:${n} - [0:0]`), n);
  assert.ok(lines.includes('-A BERTH-1a2b3c4d-ISOLATION -o br-i -j DROP'));
  assert.ok(lines.includes('-A BERTH-1a2b3c4d-FORWARD -i br-a ! -o br-a -j BERTH-1a2b3c4d-ISOLATION'));
  assert.ok(lines.includes('-A BERTH-1a2b3c4d-FORWARD -i br-i ! -o br-i -j DROP'));
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
