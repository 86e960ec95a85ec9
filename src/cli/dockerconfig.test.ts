import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeAuthConfig, encodeAuthConfig } from '../client/auth';
import { ConfigFile, CredentialsError, INDEX_SERVER, authConfigKey, configDir, convertToHostname, resolveAuthConfig } from './dockerconfig';

/**
 * A credential helper speaking the docker-credential-helpers protocol, keeping its credentials in
 * the JSON file $FAKE_CREDS_FILE and logging each call to $FAKE_CREDS_FILE.log.
 */
const FAKE_HELPER = `#!${process.execPath}
const fs = require('fs');
const file = process.env.FAKE_CREDS_FILE;
const action = process.argv[2];
let input = '';
process.stdin.on('data', (c) => (input += c));
process.stdin.on('end', () => {
  fs.appendFileSync(file + '.log', action + ' ' + JSON.stringify(input) + '\\n');
  if (process.env.FAKE_CREDS_FAIL) { process.stdout.write('the keychain is locked\\n'); process.exit(3); }
  const db = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  if (action === 'store') {
    const c = JSON.parse(input);
    db[c.ServerURL] = { Username: c.Username, Secret: c.Secret };
  } else if (action === 'get') {
    if (!db[input]) { process.stdout.write('credentials not found in native keychain\\n'); process.exit(1); }
    process.stdout.write(JSON.stringify({ ServerURL: input, ...db[input] }) + '\\n');
    return;
  } else if (action === 'erase') {
    delete db[input];
  } else { process.exit(2); }
  fs.writeFileSync(file, JSON.stringify(db));
});
`;

function tmpdir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `berth-dockerconfig-${name}-`));
}

function load(dir: string, env: NodeJS.ProcessEnv = { PATH: '' }): { cfg: ConfigFile; warnings: string[] } {
  const warnings: string[] = [];
  const cfg = ConfigFile.load(dir, { env, warn: (m) => warnings.push(m) });
  return { cfg, warnings };
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('config.json in the file', () => {
  let dir: string;
  before(() => (dir = tmpdir('file')));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('where it lives: --config, then DOCKER_CONFIG, then ~/.docker', () => {
    assert.equal(configDir({ HOME: '/home/u' }), '/home/u/.docker');
    assert.equal(configDir({ HOME: '/home/u', DOCKER_CONFIG: '/etc/dc' }), '/etc/dc');
    assert.equal(configDir({ DOCKER_CONFIG: '/etc/dc' }, '/x/y'), '/x/y');
  });

  test('registry keys: Docker Hub by its index URL, others by host[:port]', () => {
    assert.equal(authConfigKey('docker.io'), INDEX_SERVER);
    assert.equal(authConfigKey('index.docker.io'), INDEX_SERVER);
    assert.equal(authConfigKey('127.0.0.1:5000'), '127.0.0.1:5000');
    assert.equal(convertToHostname('https://registry.example:5000/v2/'), 'registry.example:5000');
    assert.equal(convertToHostname('http://registry.example'), 'registry.example');
    assert.equal(convertToHostname('registry.example:5000/path'), 'registry.example:5000');
  });

  test('a missing file is an empty config; logging in writes a new file, mode 0600', async () => {
    const d = path.join(dir, 'new', '.docker');
    const { cfg, warnings } = load(d);
    assert.equal(cfg.auths.size, 0);
    await cfg.credentialStore('127.0.0.1:5000').store({ username: 'user', password: 'pass', serveraddress: '127.0.0.1:5000' });
    const file = path.join(d, 'config.json');
    assert.equal(fs.readFileSync(file, 'utf8'), `{\n\t"auths": {\n\t\t"127.0.0.1:5000": {\n\t\t\t"auth": "${b64('user:pass')}"\n\t\t}\n\t}\n}`);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(d).mode & 0o777, 0o700);
    // The unencrypted warning, once.
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /WARNING! Your credentials are stored unencrypted in '.*config\.json'\./);
    await cfg.credentialStore('other:1').store({ username: 'a', password: 'b', serveraddress: 'other:1' });
    assert.equal(warnings.length, 1);
    // No temporary files are left behind.
    assert.deepEqual(fs.readdirSync(d), ['config.json']);
  });

  test('reading: auth decoded, legacy keys found, identity tokens kept', async () => {
    const d = path.join(dir, 'read');
    fs.mkdirSync(d);
    fs.writeFileSync(
      path.join(d, 'config.json'),
      JSON.stringify({
        auths: {
          'https://legacy.example:5000': { auth: b64('old:secret:with:colons') },
          [INDEX_SERVER]: { auth: b64('hubuser:hubpass'), email: 'me@example.com' },
          'token.example': { identitytoken: 'refresh-me' },
        },
      }),
    );
    const { cfg } = load(d);
    assert.deepEqual(await cfg.getAuthConfig('legacy.example:5000'), { username: 'old', password: 'secret:with:colons', serveraddress: 'https://legacy.example:5000' });
    assert.deepEqual(await resolveAuthConfig(cfg, 'docker.io'), { username: 'hubuser', password: 'hubpass', email: 'me@example.com', serveraddress: INDEX_SERVER });
    assert.deepEqual(await cfg.getAuthConfig('token.example'), { identitytoken: 'refresh-me', serveraddress: 'token.example' });
    assert.deepEqual(await cfg.getAuthConfig('nowhere.example'), {});
  });

  test('writing keeps every other key, drops User-Agent headers, keeps the file mode', async () => {
    const d = path.join(dir, 'keep');
    fs.mkdirSync(d);
    const file = path.join(d, 'config.json');
    const original = {
      psFormat: 'table {{.ID}}',
      auths: {
        'keep.example': { auth: b64('k:v'), 'x-extra': 'stays' },
        'drop.example': { auth: b64('d:v') },
      },
      HttpHeaders: { 'User-Agent': 'nope', 'X-Meta': 'yes' },
      somethingNew: { nested: [1, 2, { deep: true }] },
      proxies: { default: { httpProxy: 'http://proxy:3128' } },
    };
    fs.writeFileSync(file, JSON.stringify(original, null, 2));
    fs.chmodSync(file, 0o640);
    const { cfg } = load(d);
    await cfg.credentialStore('drop.example').erase('drop.example');
    await cfg.credentialStore('a.example').store({ username: 'u<&>', password: 'p', serveraddress: 'a.example' });
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text, /^\{\n\t"auths": \{\n\t\t"a\.example"/, 'auths first, sorted');
    assert.ok(text.includes('\\u003c\\u0026\\u003e') === false, 'the auth field is base64, nothing to escape');
    const written = JSON.parse(text);
    assert.deepEqual(written, {
      auths: {
        'a.example': { auth: b64('u<&>:p') },
        'keep.example': { auth: b64('k:v'), 'x-extra': 'stays' },
      },
      psFormat: 'table {{.ID}}',
      HttpHeaders: { 'X-Meta': 'yes' },
      somethingNew: { nested: [1, 2, { deep: true }] },
      proxies: { default: { httpProxy: 'http://proxy:3128' } },
    });
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    // Erasing what is not there does not touch the file.
    const before = fs.statSync(file).mtimeMs;
    await cfg.credentialStore('nothing.example').erase('nothing.example');
    assert.equal(fs.statSync(file).mtimeMs, before);
  });

  test('a symlinked config.json is updated through the link', async () => {
    const d = path.join(dir, 'link');
    fs.mkdirSync(d);
    const real = path.join(dir, 'real-config.json');
    fs.writeFileSync(real, '{"auths":{}}');
    fs.symlinkSync(real, path.join(d, 'config.json'));
    const { cfg } = load(d);
    await cfg.credentialStore('l.example').store({ username: 'u', password: 'p', serveraddress: 'l.example' });
    assert.ok(fs.lstatSync(path.join(d, 'config.json')).isSymbolicLink());
    assert.deepEqual(JSON.parse(fs.readFileSync(real, 'utf8')).auths, { 'l.example': { auth: b64('u:p') } });
  });

  test('a file that does not parse gives a warning and is never overwritten', async () => {
    const d = path.join(dir, 'bad');
    fs.mkdirSync(d);
    const file = path.join(d, 'config.json');
    fs.writeFileSync(file, '{"auths": {');
    const { cfg, warnings } = load(d);
    assert.match(warnings[0], /^WARNING: Error parsing config file \(.*config\.json\): /);
    await assert.rejects(cfg.credentialStore('x').store({ username: 'u', password: 'p', serveraddress: 'x' }), /refusing to overwrite/);
    assert.equal(fs.readFileSync(file, 'utf8'), '{"auths": {');
    fs.writeFileSync(file, JSON.stringify({ auths: { bad: { auth: b64('nocolon') } } }));
    assert.match(load(d).warnings[0], /Invalid auth configuration file/);
  });
});

describe('credential helpers (docker-credential-*)', () => {
  let dir: string;
  let bin: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    dir = tmpdir('helpers');
    bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'docker-credential-fake'), FAKE_HELPER, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, 'docker-credential-other'), FAKE_HELPER, { mode: 0o755 });
    env = { PATH: bin, FAKE_CREDS_FILE: path.join(dir, 'creds.json') };
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const calls = (): string[] => fs.readFileSync(path.join(dir, 'creds.json.log'), 'utf8').trim().split('\n');

  test('credsStore: the secret goes to the helper, an empty entry to the file', async () => {
    const d = path.join(dir, 'store');
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ credsStore: 'fake', detachKeys: 'ctrl-x' }));
    const { cfg, warnings } = load(d, env);
    await cfg.credentialStore('127.0.0.1:5000').store({ username: 'user', password: 'p<ss', serveraddress: '127.0.0.1:5000' });
    assert.deepEqual(warnings, [], 'no unencrypted warning with a helper');
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(d, 'config.json'), 'utf8')), {
      auths: { '127.0.0.1:5000': {} },
      credsStore: 'fake',
      detachKeys: 'ctrl-x',
    });
    // The helper got docker's JSON, HTML characters escaped as Go does, and a newline.
    assert.deepEqual(calls(), [`store ${JSON.stringify('{"ServerURL":"127.0.0.1:5000","Username":"user","Secret":"p\\u003css"}\n')}`]);
    const again = load(d, env).cfg;
    assert.deepEqual(await again.getAuthConfig('127.0.0.1:5000'), { username: 'user', password: 'p<ss', serveraddress: '127.0.0.1:5000' });
    assert.equal(encodeAuthConfig(await resolveAuthConfig(again, '127.0.0.1:5000')), encodeAuthConfig({ username: 'user', password: 'p<ss', serveraddress: '127.0.0.1:5000' }));
    // Not in the keychain: no credentials, no error.
    assert.deepEqual(await again.getAuthConfig('elsewhere:1'), {});
    await again.credentialStore('127.0.0.1:5000').erase('127.0.0.1:5000');
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(d, 'config.json'), 'utf8')).auths, {});
    assert.deepEqual(await load(d, env).cfg.getAuthConfig('127.0.0.1:5000'), {});
    assert.equal(calls().at(-2), 'erase "127.0.0.1:5000"');
  });

  test('identity tokens are stored under the <token> user name', async () => {
    const d = path.join(dir, 'token');
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ credsStore: 'fake' }));
    const { cfg } = load(d, env);
    await cfg.credentialStore('tok.example').store({ username: 'user', identitytoken: 'refresh', serveraddress: 'tok.example' });
    assert.equal(JSON.parse(calls().at(-1)!.slice('store '.length)), '{"ServerURL":"tok.example","Username":"\\u003ctoken\\u003e","Secret":"refresh"}\n');
    assert.deepEqual(await load(d, env).cfg.getAuthConfig('tok.example'), { identitytoken: 'refresh', serveraddress: 'tok.example' });
  });

  test('credHelpers choose a helper per registry, over credsStore', async () => {
    const d = path.join(dir, 'per');
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ credsStore: 'nosuch', credHelpers: { 'reg.example': 'other' } }));
    const { cfg } = load(d, env);
    assert.equal(cfg.helperFor('reg.example'), 'other');
    assert.equal(cfg.helperFor('else.example'), 'nosuch');
    await cfg.credentialStore('reg.example').store({ username: 'x', password: 'y', serveraddress: 'reg.example' });
    assert.deepEqual(await cfg.getAuthConfig('reg.example'), { username: 'x', password: 'y', serveraddress: 'reg.example' });
    // A helper that is not installed fails as docker words it; pull and push carry on without.
    await assert.rejects(cfg.getAuthConfig('else.example'), (e: unknown) => e instanceof CredentialsError && e.message === 'error getting credentials - err: exec: "docker-credential-nosuch": executable file not found in $PATH, out: ``');
    assert.deepEqual(await resolveAuthConfig(cfg, 'else.example'), {});
  });

  test('a failing helper: its output is the error', async () => {
    const d = path.join(dir, 'fail');
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ credsStore: 'fake' }));
    const { cfg } = load(d, { ...env, FAKE_CREDS_FAIL: '1' });
    await assert.rejects(cfg.credentialStore('f.example').store({ username: 'u', password: 'p', serveraddress: 'f.example' }), {
      message: 'error storing credentials - err: exit status 3, out: `the keychain is locked`',
    });
    await assert.rejects(cfg.getAuthConfig('f.example'), { message: 'error getting credentials - err: exit status 3, out: `the keychain is locked`' });
    await assert.rejects(cfg.credentialStore('f.example').erase('f.example'), { message: 'error erasing credentials - err: exit status 3, out: `the keychain is locked`' });
  });

  test('with no credentials configured, an installed platform helper becomes the store', async () => {
    const d = path.join(dir, 'detect');
    fs.mkdirSync(d);
    const pbin = path.join(dir, 'platform-bin');
    fs.mkdirSync(pbin);
    fs.writeFileSync(path.join(pbin, 'docker-credential-secretservice'), FAKE_HELPER, { mode: 0o755 });
    const penv = { ...env, PATH: pbin };
    const { cfg } = load(d, penv);
    assert.equal(cfg.credsStore, 'secretservice');
    await cfg.credentialStore('p.example').store({ username: 'u', password: 'p', serveraddress: 'p.example' });
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(d, 'config.json'), 'utf8')), { auths: { 'p.example': {} }, credsStore: 'secretservice' });
    // Without one, the file.
    assert.equal(load(path.join(dir, 'none'), { PATH: path.join(dir, 'empty') }).cfg.credsStore, '');
  });
});

describe('X-Registry-Auth', () => {
  test('no credentials: {} as docker sends it', () => {
    assert.equal(encodeAuthConfig({}), 'e30=');
  });

  test('base64url with padding of the JSON fields in docker order, empty ones left out', () => {
    const enc = encodeAuthConfig({ serveraddress: '127.0.0.1:5000', password: 'p?>>', username: 'user', email: '' });
    assert.equal(Buffer.from(enc.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString(), '{"username":"user","password":"p?\\u003e\\u003e","serveraddress":"127.0.0.1:5000"}');
    assert.doesNotMatch(enc, /[+/]/);
    assert.match(enc, /=*$/);
    assert.equal(enc.length % 4, 0);
    assert.deepEqual(decodeAuthConfig(enc), { username: 'user', password: 'p?>>', serveraddress: '127.0.0.1:5000' });
    const tok = encodeAuthConfig({ identitytoken: 'tok', serveraddress: 'r.example' });
    assert.deepEqual(JSON.parse(Buffer.from(tok, 'base64url').toString()), { serveraddress: 'r.example', identitytoken: 'tok' });
  });
});
