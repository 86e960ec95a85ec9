import { test } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { allows, grantScopes, Htpasswd, parseBasic, parseHtpasswd, parseScopes, TokenIssuer } from './auth';

test('parseScopes splits repeated and space-separated scopes, names with colons and classes', () => {
  assert.deepEqual(parseScopes(['repository:a/b:pull,push repository:c:pull', 'registry:catalog:*', 'repository(plugin):p:pull', 'repository:host:5000/x:pull', 'junk', '']), [
    { type: 'repository', name: 'a/b', actions: ['pull', 'push'] },
    { type: 'repository', name: 'c', actions: ['pull'] },
    { type: 'registry', name: 'catalog', actions: ['*'] },
    { type: 'repository', name: 'p', actions: ['pull'] },
    { type: 'repository', name: 'host:5000/x', actions: ['pull'] },
  ]);
});

test('grantScopes keeps known actions on valid names only', () => {
  assert.deepEqual(grantScopes(parseScopes(['repository:ok:pull,push,pull,fly repository:Bad:pull repository:x:fly registry:catalog:* registry:other:*'])), [
    { type: 'repository', name: 'ok', actions: ['pull', 'push'] },
    { type: 'registry', name: 'catalog', actions: ['*'] },
  ]);
});

test('tokens: signed, scoped, expiring, bound to their service', () => {
  const issuer = new TokenIssuer({ secret: 'k', expiresIn: 60 });
  const now = Date.UTC(2025, 0, 1);
  const { token, expiresIn, issuedAt } = issuer.issue('alice', [{ type: 'repository', name: 'a', actions: ['pull'] }], now);
  assert.equal(expiresIn, 60);
  assert.equal(issuedAt, '2025-01-01T00:00:00.000Z');
  const claims = issuer.verify(token, now + 1000);
  assert.ok(claims);
  assert.equal(claims.sub, 'alice');
  assert.ok(allows(claims, 'repository', 'a', 'pull'));
  assert.ok(!allows(claims, 'repository', 'a', 'push'));
  assert.ok(!allows(claims, 'repository', 'b', 'pull'));
  assert.equal(issuer.verify(token, now + 61_000), undefined, 'expired');
  assert.equal(new TokenIssuer({ secret: 'k', service: 'other' }).verify(token, now), undefined, 'another audience');
  assert.equal(new TokenIssuer({ secret: 'other' }).verify(token, now), undefined, 'another key');
  assert.ok(new TokenIssuer({ secret: 'k' }).verify(token, now), 'the same key and service');
  const star = issuer.issue('', [{ type: 'repository', name: 'a', actions: ['*'] }], now).token;
  assert.ok(allows(issuer.verify(star, now)!, 'repository', 'a', 'delete'));
});

test('htpasswd: bcrypt entries only, with a message naming the line', async () => {
  const hash = bcrypt.hashSync('pw', 4);
  const users = parseHtpasswd(`# comment\n\nalice:${hash.replace('$2b$', '$2y$')}\nbob:${hash.replace('$2b$', '$2a$')}\r\n`, 'f');
  assert.deepEqual([...users.keys()], ['alice', 'bob']);
  const h = new Htpasswd(users);
  assert.equal(await h.verify('alice', 'pw'), true);
  assert.equal(await h.verify('alice', 'pw'), true, 'cached');
  assert.equal(await h.verify('bob', 'pw'), true);
  assert.equal(await h.verify('alice', 'nope'), false);
  assert.equal(await h.verify('nobody', 'pw'), false);
  assert.throws(() => parseHtpasswd('x:$apr1$salt$hash\n', 'f'), /^Error: f:1: user "x" has an Apache MD5 \(\$apr1\$\) hash; only bcrypt entries are supported \(create them with "htpasswd -B"\)$/);
  assert.throws(() => parseHtpasswd(`ok:${hash}\ny:plaintext\n`, 'f'), /f:2: user "y" has a crypt or plain-text password/);
  assert.throws(() => parseHtpasswd('no colon here\n', 'f'), /f:1: not a "user:hash" line/);
});

test('parseBasic', () => {
  assert.deepEqual(parseBasic(`Basic ${Buffer.from('u:p:q').toString('base64')}`), { user: 'u', password: 'p:q' });
  assert.equal(parseBasic('Bearer x'), undefined);
  assert.equal(parseBasic(`Basic ${Buffer.from('nocolon').toString('base64')}`), undefined);
});
