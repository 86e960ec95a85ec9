/**
 * `berth exec`: docker's flow. Create the exec session, then either start it detached, or hijack
 * its start and copy stdio (raw mode on a TTY, size followed through /exec/{id}/resize); the
 * exit status is the session's ExitCode read back afterwards (126/127 when the command could
 * not be started, as the daemon records them).
 */
import fs from 'node:fs';
import { StatusError, errorText, type CommandSpec } from '../cli';
import { OptionError, readKVEnvStrings } from './container-opts';
import { followAttached, streamHijacked } from './attach-io';
import { parseDetachKeys } from '../../util/detach-keys';

interface ExecInspect {
  ExitCode: number | null;
  Running: boolean;
}

export const execCommand: CommandSpec = {
  name: 'exec',
  use: '[OPTIONS] CONTAINER COMMAND [ARG...]',
  short: 'Execute a command in a running container',
  interspersed: false,
  args: { kind: 'min', n: 2 },
  flags: [
    { name: 'detach', short: 'd', type: 'bool', description: 'Detached mode: run command in the background' },
    { name: 'detach-keys', type: 'string', description: 'Override the key sequence for detaching a container' },
    { name: 'env', short: 'e', type: 'list', description: 'Set environment variables' },
    { name: 'env-file', type: 'list', description: 'Read in a file of environment variables' },
    { name: 'interactive', short: 'i', type: 'bool', description: 'Keep STDIN open even if not attached' },
    { name: 'privileged', type: 'bool', description: 'Give extended privileges to the command' },
    { name: 'tty', short: 't', type: 'bool', description: 'Allocate a pseudo-TTY' },
    { name: 'user', short: 'u', type: 'string', description: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
    { name: 'workdir', short: 'w', type: 'string', description: 'Working directory inside the container' },
  ],
  async run(cli, f) {
    const [container, ...cmd] = f.args;
    const detach = f.bool('detach');
    const tty = f.bool('tty');
    const interactive = f.bool('interactive');
    const detachKeys = f.string('detach-keys');
    let env: string[];
    try {
      if (detachKeys) parseDetachKeys(detachKeys);
      env = readKVEnvStrings(f.list('env-file'), f.list('env'), { readFile: (p) => fs.readFileSync(p, 'utf8'), env: cli.env });
    } catch (err) {
      if (err instanceof OptionError || err instanceof Error) throw new StatusError(125, err.message);
      throw err;
    }
    if (!detach && tty && interactive && !cli.streams.in.isTTY) throw new StatusError(1, 'the input device is not a TTY');
    const out = cli.streams.out;
    const consoleSize = tty && out.isTTY && out.rows && out.columns ? [out.rows, out.columns] : undefined;
    const engine = cli.engine();
    const body = {
      User: f.string('user'),
      Privileged: f.bool('privileged'),
      Tty: tty,
      AttachStdin: interactive && !detach,
      AttachStdout: !detach,
      AttachStderr: !detach,
      DetachKeys: detachKeys,
      Env: env,
      WorkingDir: f.string('workdir'),
      Cmd: cmd,
      ConsoleSize: consoleSize,
    };
    let id: string;
    try {
      // As docker: a missing container is reported before anything else.
      await engine.get(`/containers/${encodeURIComponent(container)}/json`);
      id = (await engine.post<{ Id: string }>(`/containers/${encodeURIComponent(container)}/exec`, undefined, body)).Id;
    } catch (err) {
      throw new StatusError(1, errorText(err));
    }
    if (detach) {
      try {
        await engine.post(`/exec/${id}/start`, undefined, { Detach: true, Tty: tty, ConsoleSize: consoleSize });
      } catch (err) {
        throw new StatusError(1, errorText(err));
      }
      return 0;
    }
    const conn = await engine.hijack(`/exec/${id}/start`, undefined, { Detach: false, Tty: tty, ConsoleSize: consoleSize });
    const attached = streamHijacked(cli, conn, { stdin: interactive, stdout: true, stderr: true, tty, detachKeys: detachKeys || undefined });
    await followAttached(cli, id, attached, { tty, kind: 'exec' });
    if (attached.detached()) throw new StatusError(1, 'read escape sequence');
    const info = await engine.get<ExecInspect>(`/exec/${id}/json`);
    return info.ExitCode ?? 0;
  },
};
