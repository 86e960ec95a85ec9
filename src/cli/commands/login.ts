import type { AuthConfig } from '../../client/auth';
import { EngineError } from '../../client/errors';
import { BIN, StatusError, type Cli, type CommandSpec } from '../cli';
import { INDEX_SERVER } from '../dockerconfig';
import { readAll } from '../prompt';
import { getDefaultAuthConfig, printNote, promptUserForCredentials } from '../registryauth';

/** registry.DefaultNamespace: `login docker.io` is a login to Docker Hub. */
const DEFAULT_NAMESPACE = 'docker.io';

interface LoginOptions {
  user: string;
  password: string;
  passwordStdin: boolean;
}

/** Saves credentials where the configuration says they belong (file or helper). */
async function storeCredentials(cli: Cli, auth: AuthConfig): Promise<void> {
  try {
    await cli.configFile().credentialStore(auth.serveraddress ?? '').store(auth);
  } catch (err) {
    throw new StatusError(1, `Error saving credentials: ${(err as Error).message}`);
  }
}

/** `login` without -u/-p and with credentials stored: try those first (docker's loginWithStoredCredentials). */
async function loginWithStoredCredentials(cli: Cli, auth: AuthConfig): Promise<{ status: string; error?: unknown }> {
  cli.err(`Authenticating with existing credentials...${auth.username ? ` [Username: ${auth.username}]` : ''}\n`);
  printNote(cli.streams.err, `To login with a different account, run '${BIN} logout' followed by '${BIN} login'`);
  cli.err('\n\n');
  let status = '';
  let error: unknown;
  try {
    const res = await cli.engine().registryLogin(auth);
    status = res.Status;
    if (res.IdentityToken) auth = { ...auth, password: undefined, identitytoken: res.IdentityToken };
  } catch (err) {
    error = err;
    if (err instanceof EngineError && err.status === 401) cli.eprintln('Stored credentials invalid or expired');
    else cli.eprintln(`Login did not succeed, error: ${err instanceof EngineError ? `Error response from daemon: ${err.message}` : (err as Error).message}`);
  }
  await storeCredentials(cli, auth);
  return { status, error };
}

async function loginUser(cli: Cli, opts: LoginOptions, defaultUsername: string, serverAddress: string): Promise<string> {
  if ((opts.user === '' || opts.password === '') && !cli.streams.in.isTTY) {
    throw new StatusError(1, 'Error: Cannot perform an interactive login from a non TTY device');
  }
  // Docker Hub's web (device-code) login is not offered: berth prompts for a password or token.
  const auth = await promptUserForCredentials(cli, opts.user, opts.password, defaultUsername, serverAddress);
  const res = await cli.engine().registryLogin(auth);
  if (res.IdentityToken) {
    auth.password = undefined;
    auth.identitytoken = res.IdentityToken;
  }
  await storeCredentials(cli, auth);
  return res.Status;
}

export const loginCommand: CommandSpec = {
  name: 'login',
  use: '[OPTIONS] [SERVER]',
  short: 'Authenticate to a registry',
  long: 'Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.',
  args: { kind: 'max', n: 1 },
  flags: [
    { name: 'password', short: 'p', type: 'string', description: 'Password or Personal Access Token (PAT)' },
    { name: 'password-stdin', type: 'bool', description: 'Take the Password or Personal Access Token (PAT) from stdin' },
    { name: 'username', short: 'u', type: 'string', description: 'Username' },
  ],
  async run(cli, f) {
    const opts: LoginOptions = { user: f.string('username'), password: f.string('password'), passwordStdin: f.bool('password-stdin') };
    // verifyLoginFlags
    if (f.has('password-stdin')) {
      if (f.has('password')) throw new StatusError(1, 'conflicting options: cannot specify both --password and --password-stdin');
      if (!f.has('username')) throw new StatusError(1, 'the --password-stdin option requires --username to be set');
    }
    if (f.has('username') && opts.user === '') throw new StatusError(1, 'username is empty');
    if (f.has('password') && opts.password === '') throw new StatusError(1, 'password is empty');
    // verifyLoginOptions
    if (opts.password !== '') cli.eprintln('WARNING! Using --password via the CLI is insecure. Use --password-stdin.');
    if (opts.passwordStdin) {
      if (opts.user === '') throw new StatusError(1, 'username is empty');
      opts.password = (await readAll(cli.streams.in)).replace(/\n$/, '').replace(/\r$/, '');
    }

    const arg = f.args[0] ?? '';
    const serverAddress = arg !== '' && arg !== DEFAULT_NAMESPACE ? arg : INDEX_SERVER;
    const isDefaultRegistry = serverAddress === INDEX_SERVER;
    const stored = await getDefaultAuthConfig(cli, opts.user === '' && opts.password === '', serverAddress, isDefaultRegistry);
    let auth = stored.auth;
    let failed: unknown = stored.error;
    let status = '';
    if (!failed && auth.username && auth.password) {
      const r = await loginWithStoredCredentials(cli, auth);
      status = r.status;
      failed = r.error;
    }
    if (failed || !auth.username || !auth.password) {
      auth = stored.auth;
      status = await loginUser(cli, opts, auth.username ?? '', auth.serveraddress ?? serverAddress);
    }
    if (status) cli.println(status);
  },
};
