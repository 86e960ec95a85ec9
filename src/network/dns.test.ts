import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import * as dnsPacket from 'dns-packet';
import { DnsServer, forwardUdp, type DnsBackend } from './dns';

const backend = (upstreams: { host: string; port: number }[] = []): DnsBackend => ({
  lookup: (net, name, family, client) =>
    net !== 'n1' ? undefined : name === 'web' || (name === 'linked' && client === '10.213.1.3') ? (family === 4 ? ['10.213.1.2'] : []) : name === 'web6' ? (family === 4 ? ['10.213.1.4'] : ['fd00:b::4']) : undefined,
  reverse: (net, ip) => (net === 'n1' && ip === '10.213.1.2' ? 'web.n1' : net === 'n1' && ip === 'fd00:b::4' ? 'web6.n1' : undefined),
  isMember: (net, client) => net === 'n1' && client === '10.213.1.3',
  upstreams: () => upstreams,
});

const query = (name: string, type: dnsPacket.RecordType = 'A'): Buffer => dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });
const data = (a: dnsPacket.Answer | undefined): unknown => (a as { data?: unknown } | undefined)?.data;
const decode = (b: unknown): dnsPacket.DecodedPacket & { rcode?: string } => dnsPacket.decode(b as Buffer) as dnsPacket.DecodedPacket & { rcode?: string };

test("names of the client's network only; nothing for strangers", () => {
  const s = new DnsServer(backend());
  const a = decode(s.answer('n1', '10.213.1.3', query('WEB.')));
  assert.equal(a.rcode, 'NOERROR');
  assert.deepEqual(a.answers?.map(data), ['10.213.1.2']);
  assert.equal(decode(s.answer('n1', '10.213.1.3', query('web', 'AAAA'))).answers?.length, 0);
  assert.equal(data(decode(s.answer('n1', '10.213.1.3', query('2.1.213.10.in-addr.arpa', 'PTR'))).answers?.[0]), 'web.n1');
  assert.deepEqual(decode(s.answer('n1', '10.213.1.3', query('web6', 'AAAA'))).answers?.map(data), ['fd00:b::4']);
  assert.deepEqual(decode(s.answer('n1', '10.213.1.3', query('linked'))).answers?.map(data), ['10.213.1.2'], 'the client is passed on (links)');
  assert.deepEqual(decode(s.answer('n1', '10.213.1.3', query('web6', 'ANY' as dnsPacket.RecordType))).answers?.map(data), ['10.213.1.4', 'fd00:b::4']);
  const ptr6 = '4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.0.0.0.0.0.d.f.ip6.arpa';
  assert.equal(data(decode(s.answer('n1', '10.213.1.3', query(ptr6, 'PTR'))).answers?.[0]), 'web6.n1');
  assert.equal(decode(s.answer('n2', '10.213.1.3', query('web'))).rcode, 'REFUSED', 'asked on another network');
  assert.equal(decode(s.answer('n1', '10.213.9.9', query('web'))).rcode, 'REFUSED', 'not a member');
  assert.equal(decode(s.answer('n1', '10.213.1.3', query('example.com'))).rcode, 'REFUSED', 'no upstreams');
});

test('other names go to the upstream servers over UDP', async () => {
  const up = dgram.createSocket('udp4');
  up.on('message', (m, r) => {
    const q = dnsPacket.decode(m);
    up.send(dnsPacket.encode({ type: 'response', id: q.id, questions: q.questions, answers: [{ type: 'A', name: q.questions![0].name, data: '192.0.2.99' }] }), r.port, r.address);
  });
  await new Promise<void>((r) => up.bind(0, '127.0.0.1', () => r()));
  const s = new DnsServer(backend([{ host: '127.0.0.1', port: up.address().port }]));
  const a = s.answer('n1', '10.213.1.3', query('example.com'));
  assert.ok(a && !Buffer.isBuffer(a));
  const r = decode(await forwardUdp(query('example.com'), a.forward));
  assert.equal(data(r.answers?.[0]), '192.0.2.99');
  s.closeAll();
  up.close();
});
