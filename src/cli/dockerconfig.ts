/**
 * The docker CLI's client configuration, `~/.docker/config.json` (or `$DOCKER_CONFIG/config.json`),
 * read and written as docker's cli/config/configfile and cli/config/credentials packages do, so
 * that berth and docker share logins:
 *  - `auths` maps a registry key to `{"auth": base64(user:password)}` (plus `identitytoken`,
 *    `email`...). The key is `https://index.docker.io/v1/` for Docker Hub and `host[:port]` for
 *    every other registry; older keys with a scheme (`https://host`) are still found on read.
 *  - `credHelpers` (per registry) and `credsStore` (default) name a credential helper: the
 *    program `docker-credential-<name>`, run with `store`, `get` or `erase` and speaking the
 *    docker-credential-helpers protocol on stdin/stdout. Credentials then live in the helper and
 *    `auths` keeps an empty entry for the registry.
 *  - With no credentials configured at all, a platform helper (`pass`, else `secretservice`) is
 *    used when its program is installed, as docker does.
 *  - Every other key in the file is kept, in its place, when the file is written back. Writes go
 *    to a temporary file in the same directory that is then renamed over the old one (mode 0600
 *    for a new file; an existing file's mode and owner are kept).
 *
 * Where docker would overwrite a file it could not parse, berth refuses to save instead.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AUTH_FIELDS, goJson, type AuthConfig } from '../client/auth';

/** Docker Hub's key in `auths` (registry.IndexServer). */
export const INDEX_SERVER = 'https://index.docker.io/v1/';
export const CONFIG_FILE_NAME = 'config.json';
const HELPER_PREFIX = 'docker-credential-';
/** The username a helper stores with an identity token instead of a password. */
const TOKEN_USERNAME = '<token>';
const NOT_FOUND = 'credentials not found in native keychain';

/** $DOCKER_CONFIG, else $HOME/.docker (docker's config.Dir); `--config` wins over both. */
export function configDir(env: NodeJS.ProcessEnv = process.env, flag?: string): string {
  if (flag) return path.resolve(flag);
  if (env.DOCKER_CONFIG) return env.DOCKER_CONFIG;
  let home = env.HOME;
  if (!home) {
    try {
      home = os.userInfo().homedir;
    } catch {
      home = '';
    }
  }
  return path.join(home, '.docker');
}

/** credentials.ConvertToHostname: `https://host:5000/v1/` → `host:5000`, `host/path` → `host`. */
export function convertToHostname(maybeURL: string): string {
  if (maybeURL.includes('://')) {
    try {
      const u = new URL(maybeURL);
      const host = u.hostname.replace(/^\[|\]$/g, '');
      if (host) {
        if (!u.port) return host;
        return host.includes(':') ? `[${host}]:${u.port}` : `${host}:${u.port}`;
      }
    } catch {}
  }
  return maybeURL.split('/')[0];
}

/** The `auths` key for a registry domain: Docker Hub's index URL, otherwise the domain itself. */
export function authConfigKey(domain: string): string {
  return domain === 'docker.io' || domain === 'index.docker.io' ? INDEX_SERVER : domain;
}

/** The program a helper name stands for: `docker-credential-<name>`. */
export function helperProgram(name: string): string {
  return HELPER_PREFIX + name;
}

/** exec.LookPath: the first executable `name` on $PATH. */
export function lookPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  for (const dir of (env.PATH ?? '').split(':')) {
    // Like Go's exec.LookPath, a match through a relative $PATH entry does not count.
    if (!path.isAbsolute(dir)) continue;
    const p = path.join(dir, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A credential helper failed: the message is docker's; `auth` is what is known without it. */
export class CredentialsError extends Error {
  constructor(
    message: string,
    readonly auth: AuthConfig = {},
  ) {
    super(message);
    this.name = 'CredentialsError';
  }
}

export interface CredentialStore {
  /** The credentials for a key; an empty config (no username) when there are none. */
  get(serverAddress: string): Promise<AuthConfig>;
  /** Saves credentials under `auth.serveraddress`. */
  store(auth: AuthConfig): Promise<void>;
  erase(serverAddress: string): Promise<void>;
}

export interface ConfigFileOptions {
  env?: NodeJS.ProcessEnv;
  /** Where warnings go (docker writes them to stderr). */
  warn?: (message: string) => void;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Decodes `auth` (base64 of user:password) as configfile.decodeAuth does. */
export function decodeAuth(auth: string): { username: string; password: string } {
  if (auth === '') return { username: '', password: '' };
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(auth) || auth.length % 4 !== 0) throw new Error('illegal base64 data in auth');
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new Error('Invalid auth configuration file');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1).replace(/^\0+|\0+$/g, '') };
}

/** configfile.encodeAuth: base64(user:password), or '' when both are empty. */
export function encodeAuth(a: AuthConfig): string {
  if (!a.username && !a.password) return '';
  return Buffer.from(`${a.username ?? ''}:${a.password ?? ''}`, 'utf8').toString('base64');
}

function sameAuth(a: AuthConfig, b: AuthConfig): boolean {
  return AUTH_FIELDS.every((k) => (a[k] ?? '') === (b[k] ?? ''));
}

export class ConfigFile {
  /** Decoded `auths`: username/password from `auth`, serveraddress = the key. */
  readonly auths = new Map<string, AuthConfig>();
  /** Set when the file exists but could not be read or parsed; save() then refuses. */
  loadError?: Error;
  private raw: Json = {};
  /** The entries as read, for the keys berth does not know about. */
  private rawAuths = new Map<string, Json>();
  private detectedStore = '';
  private warned = false;
  private readonly env: NodeJS.ProcessEnv;
  private readonly warn: (message: string) => void;

  constructor(
    readonly filename: string,
    opts: ConfigFileOptions = {},
  ) {
    this.env = opts.env ?? process.env;
    this.warn = opts.warn ?? ((m) => process.stderr.write(`${m}\n`));
  }

  /**
   * config.LoadDefaultConfigFile: reads DIR/config.json (a missing file is an empty config); a
   * file that cannot be read or parsed gives a warning and an empty config.
   */
  static load(dir: string, opts: ConfigFileOptions = {}): ConfigFile {
    const cfg = new ConfigFile(path.join(dir, CONFIG_FILE_NAME), opts);
    let text: string | undefined;
    try {
      text = fs.readFileSync(cfg.filename, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        cfg.loadError = new Error(`loading config file: ${(err as Error).message}`);
      }
    }
    if (text !== undefined) {
      try {
        cfg.parse(text);
      } catch (err) {
        cfg.loadError = new Error(`parsing config file (${cfg.filename}): ${(err as Error).message}`);
      }
    }
    if (cfg.loadError) cfg.warn(`WARNING: Error ${cfg.loadError.message}`);
    if (!cfg.containsAuth()) cfg.detectedStore = detectDefaultStore(cfg.env);
    return cfg;
  }

  private parse(text: string): void {
    if (text.trim() === '') return;
    const v: unknown = JSON.parse(text);
    if (!isObject(v)) throw new Error('json: cannot unmarshal into Go value of type configfile.ConfigFile');
    this.raw = v;
    const auths = v.auths ?? {};
    if (!isObject(auths)) throw new Error('json: cannot unmarshal "auths" into map[string]types.AuthConfig');
    if (v.credsStore !== undefined && typeof v.credsStore !== 'string') throw new Error('json: "credsStore" must be a string');
    if (v.credHelpers !== undefined && v.credHelpers !== null && !isObject(v.credHelpers)) throw new Error('json: "credHelpers" must be an object');
    for (const [key, entry] of Object.entries(auths)) {
      const e = isObject(entry) ? entry : {};
      this.rawAuths.set(key, e);
      const ac: AuthConfig = {};
      for (const k of AUTH_FIELDS) if (str(e[k])) ac[k] = str(e[k]);
      if (ac.auth) {
        const { username, password } = decodeAuth(ac.auth);
        ac.username = username;
        ac.password = password;
      }
      delete ac.auth;
      ac.serveraddress = key;
      this.auths.set(key, ac);
    }
  }

  /** The default helper: the file's `credsStore`, else the detected platform helper, else ''. */
  get credsStore(): string {
    return str(this.raw.credsStore) || this.detectedStore;
  }

  get credHelpers(): Record<string, string> {
    const h = this.raw.credHelpers;
    const out: Record<string, string> = {};
    if (isObject(h)) for (const [k, v] of Object.entries(h)) if (typeof v === 'string') out[k] = v;
    return out;
  }

  /**
   * The `proxies` entry for a daemon `host`, else the `default` one (configfile.ParseProxyConfig's
   * lookup): httpProxy, httpsProxy, noProxy, ftpProxy, allProxy, as written in the file.
   */
  proxyConfig(host: string): Record<string, string> {
    const proxies = this.raw.proxies;
    if (!isObject(proxies)) return {};
    const entry = Object.prototype.hasOwnProperty.call(proxies, host) ? proxies[host] : proxies.default;
    const out: Record<string, string> = {};
    if (isObject(entry)) for (const [k, v] of Object.entries(entry)) if (typeof v === 'string') out[k] = v;
    return out;
  }

  /** configfile.ContainsAuth */
  containsAuth(): boolean {
    return !!str(this.raw.credsStore) || Object.keys(this.credHelpers).length > 0 || this.auths.size > 0;
  }

  /** The helper for a registry key: its `credHelpers` entry, else `credsStore`; '' for the file. */
  helperFor(serverAddress: string): string {
    if (serverAddress) {
      const h = this.credHelpers;
      if (Object.prototype.hasOwnProperty.call(h, serverAddress)) return h[serverAddress];
    }
    return this.credsStore;
  }

  /** configfile.GetCredentialsStore */
  credentialStore(serverAddress: string): CredentialStore {
    const helper = this.helperFor(serverAddress);
    return helper ? new HelperStore(this, helper, this.env) : new FileStore(this);
  }

  /** configfile.GetAuthConfig: throws CredentialsError (with what is known) when a helper fails. */
  getAuthConfig(serverAddress: string): Promise<AuthConfig> {
    return this.credentialStore(serverAddress).get(serverAddress);
  }

  /** Internal to the file store: the unencrypted-credentials warning, once per process. */
  warnUnencrypted(): void {
    if (this.warned) return;
    this.warned = true;
    this.warn(
      `\nWARNING! Your credentials are stored unencrypted in '${this.filename}'.\n` +
        'Configure a credential helper to remove this warning. See\n' +
        'https://docs.docker.com/go/credential-store/\n',
    );
  }

  /** The file's text as docker would write it (tab-indented JSON, `auths` first and sorted). */
  serialize(): string {
    const auths: Json = {};
    for (const key of [...this.auths.keys()].sort()) {
      const a = this.auths.get(key)!;
      const e: Json = {};
      const auth = encodeAuth(a);
      if (auth) e.auth = auth;
      for (const k of ['email', 'identitytoken', 'registrytoken'] as const) if (a[k]) e[k] = a[k];
      // Keys berth does not know about stay with their entry.
      for (const [k, v] of Object.entries(this.rawAuths.get(key) ?? {})) {
        if (!(AUTH_FIELDS as readonly string[]).includes(k)) e[k] = v;
      }
      auths[key] = e;
    }
    const out: Json = { auths };
    for (const [k, v] of Object.entries(this.raw)) {
      if (k === 'auths') continue;
      if (k === 'HttpHeaders' && isObject(v)) {
        // The User-Agent header is set by the client and never stored (configfile.SaveToWriter).
        out[k] = Object.fromEntries(Object.entries(v).filter(([h]) => h.toLowerCase() !== 'user-agent'));
        continue;
      }
      out[k] = v;
    }
    if (!str(this.raw.credsStore) && this.detectedStore) out.credsStore = this.detectedStore;
    return goJson(out, '\t');
  }

  /** configfile.Save: a temporary file beside the target, renamed over it. */
  save(): void {
    if (this.loadError) {
      throw new Error(`refusing to overwrite ${this.filename}, which could not be read: ${this.loadError.message}`);
    }
    const dir = path.dirname(this.filename);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const data = this.serialize();
    let temp = '';
    let fd = -1;
    for (let i = 0; fd < 0; i++) {
      temp = path.join(dir, `${path.basename(this.filename)}${crypto.randomInt(1e9)}`);
      try {
        fd = fs.openSync(temp, 'wx', 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || i > 100) throw err;
      }
    }
    try {
      fs.writeSync(fd, data);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fd = -1;
      const target = resolveTarget(this.filename);
      copyFilePermissions(target, temp);
      fs.renameSync(temp, target);
    } catch (err) {
      if (fd >= 0) fs.closeSync(fd);
      fs.rmSync(temp, { force: true });
      throw err;
    }
  }

  /** Internal to the stores: records a change to `auths`. */
  setAuth(key: string, auth: AuthConfig | undefined): void {
    if (auth) this.auths.set(key, auth);
    else {
      this.auths.delete(key);
      this.rawAuths.delete(key);
    }
  }
}

/** The file a write should replace: the target of a symlink, even a dangling one. */
function resolveTarget(filename: string): string {
  try {
    return fs.realpathSync(filename);
  } catch {
    try {
      if (fs.lstatSync(filename).isSymbolicLink()) return path.resolve(path.dirname(filename), fs.readlinkSync(filename));
    } catch {}
    return filename;
  }
}

/** configfile.copyFilePermissions: mode, and owner when not root's, of the file being replaced. */
function copyFilePermissions(src: string, dst: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(src);
  } catch {
    return;
  }
  try {
    fs.chmodSync(dst, st.isFile() ? st.mode & 0o7777 : 0o600);
    if (st.uid > 0 && st.gid > 0) fs.chownSync(dst, st.uid, st.gid);
  } catch {}
}

/** credentials.DetectDefaultStore on Linux: `pass` if installed, else `secretservice`, if its helper is. */
function detectDefaultStore(env: NodeJS.ProcessEnv): string {
  const platform = lookPath('pass', env) ? 'pass' : 'secretservice';
  return lookPath(helperProgram(platform), env) ? platform : '';
}

/** Credentials in config.json itself (credentials.fileStore). */
class FileStore implements CredentialStore {
  constructor(private readonly file: ConfigFile) {}

  async get(serverAddress: string): Promise<AuthConfig> {
    return this.lookup(serverAddress);
  }

  lookup(serverAddress: string): AuthConfig {
    const a = this.file.auths.get(serverAddress);
    if (a) return { ...a };
    // Entries written by older clients carry a scheme or a path: https://host:5000/v1/
    for (const [key, ac] of this.file.auths) if (convertToHostname(key) === serverAddress) return { ...ac };
    return {};
  }

  async store(auth: AuthConfig): Promise<void> {
    const key = auth.serveraddress ?? '';
    if (!key) throw new Error('invalid auth config: no server address');
    const old = this.file.auths.get(key);
    if (old && sameAuth(old, auth)) return;
    this.file.setAuth(key, { ...auth });
    this.file.save();
    if (auth.password) this.file.warnUnencrypted();
  }

  async erase(serverAddress: string): Promise<void> {
    if (!this.file.auths.has(serverAddress)) return;
    this.file.setAuth(serverAddress, undefined);
    this.file.save();
  }
}

/** Credentials kept by `docker-credential-<helper>` (credentials.nativeStore). */
class HelperStore implements CredentialStore {
  private readonly fileStore: FileStore;
  private readonly program: string;

  constructor(
    file: ConfigFile,
    helper: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.fileStore = new FileStore(file);
    this.program = helperProgram(helper);
  }

  async get(serverAddress: string): Promise<AuthConfig> {
    // The file may still hold an email address for the registry.
    const auth = this.fileStore.lookup(serverAddress);
    const r = await runHelper(this.program, 'get', serverAddress, this.env);
    let creds: AuthConfig = {};
    if (r.error) {
      if (r.out.trim() !== NOT_FOUND) {
        throw new CredentialsError(`error getting credentials - err: ${helperError(r)}, out: \`${r.out.trim()}\``, auth);
      }
    } else {
      let resp: Json;
      try {
        const v: unknown = JSON.parse(r.out);
        resp = isObject(v) ? v : {};
      } catch (err) {
        throw new CredentialsError((err as Error).message, auth);
      }
      const field = (name: string): string => {
        const k = Object.keys(resp).find((x) => x.toLowerCase() === name.toLowerCase());
        return k === undefined ? '' : str(resp[k]);
      };
      const username = field('Username');
      const secret = field('Secret');
      creds = username === TOKEN_USERNAME ? { identitytoken: secret } : { username, password: secret };
      creds.serveraddress = serverAddress;
    }
    const out: AuthConfig = { ...auth };
    for (const k of ['username', 'password', 'identitytoken', 'serveraddress'] as const) {
      if (creds[k]) out[k] = creds[k];
      else delete out[k];
    }
    return out;
  }

  async store(auth: AuthConfig): Promise<void> {
    const creds = auth.identitytoken
      ? { ServerURL: auth.serveraddress ?? '', Username: TOKEN_USERNAME, Secret: auth.identitytoken }
      : { ServerURL: auth.serveraddress ?? '', Username: auth.username ?? '', Secret: auth.password ?? '' };
    const r = await runHelper(this.program, 'store', `${goJson(creds)}\n`, this.env);
    if (r.error) throw new CredentialsError(`error storing credentials - err: ${helperError(r)}, out: \`${r.out.trim()}\``);
    // Only what is not secret goes to the file: an (empty) entry marking the registry.
    const rest: AuthConfig = { ...auth };
    delete rest.username;
    delete rest.password;
    delete rest.identitytoken;
    await this.fileStore.store(rest);
  }

  async erase(serverAddress: string): Promise<void> {
    const r = await runHelper(this.program, 'erase', serverAddress, this.env);
    if (r.error) throw new CredentialsError(`error erasing credentials - err: ${helperError(r)}, out: \`${r.out.trim()}\``);
    await this.fileStore.erase(serverAddress);
  }
}

/** The helpers protocol names two input errors by their message; docker reports those instead. */
function helperError(r: { error?: string; out: string }): string {
  const t = r.out.trim();
  if (t === 'no credentials server URL') return t;
  if (t === 'no credentials username') return t;
  return r.error ?? '';
}

/**
 * Runs `program action` with `input` on stdin; stdout is the answer (helpers print their errors
 * there too), stderr is the user's. `error` is set as Go's exec would word it.
 */
function runHelper(program: string, action: string, input: string, env: NodeJS.ProcessEnv): Promise<{ out: string; error?: string }> {
  return new Promise((resolve) => {
    const file = lookPath(program, env);
    if (!file) {
      resolve({ out: '', error: `exec: "${program}": executable file not found in $PATH` });
      return;
    }
    const child = spawn(file, [action], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => (out += c));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
    child.on('error', (err) => resolve({ out, error: `fork/exec ${file}: ${err.message}` }));
    child.on('close', (code, signal) => {
      if (signal) resolve({ out, error: `signal: ${signalName(signal)}` });
      else if (code !== 0) resolve({ out, error: `exit status ${code}` });
      else resolve({ out });
    });
  });
}

function signalName(signal: NodeJS.Signals): string {
  const names: Partial<Record<NodeJS.Signals, string>> = { SIGKILL: 'killed', SIGTERM: 'terminated', SIGINT: 'interrupt', SIGSEGV: 'segmentation fault' };
  return names[signal] ?? signal;
}

/**
 * command.ResolveAuthConfig: the credentials for an image's registry domain as pull and push send
 * them; a helper's failure is ignored (what the file knows is used), as docker does.
 */
export async function resolveAuthConfig(cfg: ConfigFile, domain: string): Promise<AuthConfig> {
  try {
    return await cfg.getAuthConfig(authConfigKey(domain));
  } catch (err) {
    if (err instanceof CredentialsError) return err.auth;
    throw err;
  }
}
