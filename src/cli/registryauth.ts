/**
 * Credentials for the commands that talk to registries through the daemon (pull, push, run's
 * implicit pull, login): looking them up in config.json for an image's registry, encoding them
 * for X-Registry-Auth, and asking the user for them — docker's cli/command/registry.go.
 */
import { encodeAuthConfig, type AuthConfig } from '../client/auth';
import { EngineError } from '../client/errors';
import type { Cli } from './cli';
import { INDEX_SERVER, authConfigKey, convertToHostname, resolveAuthConfig } from './dockerconfig';
import { disableEcho, readInput } from './prompt';

const REGISTER_SUGGEST =
  "Log in with your Docker ID or email address to push and pull images from Docker Hub. If you don't have a Docker ID, head over to https://hub.docker.com/ to create one.";
const PAT_SUGGEST =
  'You can log in with your password or a Personal Access Token (PAT). Using a limited-scope PAT grants better security and is required for organizations using SSO. Learn more at https://docs.docker.com/go/access-tokens/';

/** The X-Registry-Auth value for an image on `domain`: `e30=` (`{}`) when there are no credentials. */
export async function registryAuthHeader(cli: Cli, domain: string): Promise<string> {
  return encodeAuthConfig(await resolveAuthConfig(cli.configFile(), domain));
}

/**
 * tui.Output.PrintNote: "\n Info -> " then the lines of `text`, the later ones indented under the
 * first (bold and coloured on a terminal, as docker draws it).
 */
export function printNote(out: Cli['streams']['out'], text: string): void {
  const tty = !!out.isTTY;
  const header = tty ? '\x1b[1m\x1b[106m\x1b[30mi\x1b[0m \x1b[96mInfo → \x1b[0m\x1b[0m' : ' Info -> ';
  let s = `\n${header}`;
  text.split('\n').forEach((line, i) => {
    if (i > 0) s += ' '.repeat(9);
    s += `${tty ? `\x1b[3m${line}\x1b[0m` : line}\n`;
  });
  out.write(s);
}

/** Whether docker's CLI hints are on (DOCKER_CLI_HINTS, default true). */
function hintsEnabled(env: NodeJS.ProcessEnv): boolean {
  const v = env.DOCKER_CLI_HINTS;
  if (v === undefined || v === '') return true;
  return !['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v);
}

/**
 * command.PromptUserForCredentials: asks for what was not given (the username defaulting to
 * `defaultUsername`, the password without echo) and returns the credentials for `serverAddress`.
 */
export async function promptUserForCredentials(
  cli: Cli,
  argUser: string,
  argPassword: string,
  defaultUsername: string,
  serverAddress: string,
): Promise<AuthConfig> {
  let user = argUser.trim();
  if (user === '') {
    if (serverAddress === INDEX_SERVER) {
      cli.println(REGISTER_SUGGEST);
      if (hintsEnabled(cli.env)) {
        cli.println(PAT_SUGGEST);
        cli.println();
      }
    }
    const def = defaultUsername.trim();
    user = await readInput(cli.lines(), cli.streams.out, def === '' ? 'Username: ' : `Username (${def}): `);
    if (user === '') user = def;
    if (user === '') throw new Error('Error: Non-null Username Required');
  }
  let password = argPassword.trim();
  if (password === '') {
    const restore = disableEcho(cli.streams.in);
    try {
      if (serverAddress === INDEX_SERVER) {
        printNote(cli.streams.err, 'A Personal Access Token (PAT) can be used instead.\nTo create a PAT, visit https://app.docker.com/settings\n\n');
      }
      password = await readInput(cli.lines(), cli.streams.out, 'Password: ', restore);
    } finally {
      restore();
    }
    cli.println();
    if (password === '') throw new Error('Error: Password Required');
  }
  return { username: user, password, serveraddress: serverAddress };
}

/**
 * command.GetDefaultAuthConfig: the stored credentials for a login to `serverAddress` (looked up
 * only when `checkStore`), keyed by host name unless it is Docker Hub; never an identity token.
 */
export async function getDefaultAuthConfig(cli: Cli, checkStore: boolean, serverAddress: string, isDefaultRegistry: boolean): Promise<{ auth: AuthConfig; error?: Error }> {
  const key = isDefaultRegistry ? serverAddress : convertToHostname(serverAddress);
  let auth: AuthConfig = {};
  if (checkStore) {
    try {
      auth = await cli.configFile().getAuthConfig(key);
    } catch (err) {
      return { auth: { serveraddress: key }, error: err as Error };
    }
  }
  return { auth: { ...auth, serveraddress: key, identitytoken: undefined } };
}

/**
 * command.RegistryAuthenticationPrivilegedFunc: after a 401 from pull or push, asks for
 * credentials and returns the header to retry with. Two departures from docker 28: it prompts
 * even when stdin is not a terminal (and then waits on it forever), where berth gives up
 * (undefined: no retry); and it words the prompt for Docker Hub whatever the registry, where
 * berth names the image's registry.
 */
export function privilegeFunc(cli: Cli, domain: string, cmdName: string): (() => Promise<string>) | undefined {
  if (!cli.streams.in.isTTY) return undefined;
  return async () => {
    const key = authConfigKey(domain);
    cli.out(`\nLogin prior to ${cmdName}:\n`);
    const { auth, error } = await getDefaultAuthConfig(cli, true, key, key === INDEX_SERVER);
    if (error) cli.eprintln(`Unable to retrieve stored credentials for ${key}, error: ${error.message}.`);
    const creds = await promptUserForCredentials(cli, '', '', auth.username ?? '', key);
    return encodeAuthConfig(creds);
  };
}

/** Runs `request` with `header`; on a 401, once more with what `privilege` returns (docker's ImagePull/ImagePush). */
export async function withPrivilege<T>(header: string, request: (header: string) => Promise<T>, privilege: (() => Promise<string>) | undefined): Promise<T> {
  try {
    return await request(header);
  } catch (err) {
    if (!(err instanceof EngineError && err.status === 401) || !privilege) throw err;
    return request(await privilege());
  }
}
