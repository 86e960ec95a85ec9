import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkEnv, linkHost, parseLink } from './links';

const target = { name: 'db', hostname: 'abc123', ip: '10.213.0.5', exposed: ['5432/tcp', '53/udp'], env: ['PATH=/bin', 'PASSWORD=s3cret', 'HOME=/root'] };

test('links parse in the given and the stored form', () => {
  assert.deepEqual(parseLink('db'), { name: 'db', alias: 'db' });
  assert.deepEqual(parseLink('db:my-db'), { name: 'db', alias: 'my-db' });
  assert.deepEqual(parseLink('/db:/web/my-db'), { name: 'db', alias: 'my-db' });
  assert.throws(() => parseLink(':x'), /invalid link/);
});

test("a link's hosts entry and environment, as Docker writes them", () => {
  assert.deepEqual(linkHost(parseLink('db:my-db'), target), { name: 'my-db abc123 db', ip: '10.213.0.5' });
  assert.deepEqual(linkHost(parseLink('db'), target), { name: 'db abc123', ip: '10.213.0.5' });
  assert.deepEqual(linkEnv('web', parseLink('db:my-db'), target), [
    'MY_DB_NAME=/web/my-db',
    'MY_DB_PORT=udp://10.213.0.5:53',
    'MY_DB_PORT_53_UDP=udp://10.213.0.5:53',
    'MY_DB_PORT_53_UDP_ADDR=10.213.0.5',
    'MY_DB_PORT_53_UDP_PORT=53',
    'MY_DB_PORT_53_UDP_PROTO=udp',
    'MY_DB_PORT_5432_TCP=tcp://10.213.0.5:5432',
    'MY_DB_PORT_5432_TCP_ADDR=10.213.0.5',
    'MY_DB_PORT_5432_TCP_PORT=5432',
    'MY_DB_PORT_5432_TCP_PROTO=tcp',
    'MY_DB_ENV_PASSWORD=s3cret',
  ]);
});
