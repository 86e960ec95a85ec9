import { StatusError, errorText, type CommandSpec } from '../cli';
import type { FlagSpec } from '../flags';
import { CONTAINER_FLAGS, OptionError, buildCreateRequest, type CreateRequest } from './container-opts';
import { createContainer, optsEnv, reportError } from './create';
import { attach, monitorTtySize, proxySignals, registerWait, startErrorStatus, type Attached } from './attach-io';

const RUN_FLAGS: FlagSpec[] = [
  { name: 'detach', short: 'd', type: 'bool', description: 'Run container in background and print container ID' },
  { name: 'sig-proxy', type: 'bool', default: true, description: 'Proxy received signals to the process' },
  { name: 'detach-keys', type: 'string', description: 'Override the key sequence for detaching a container' },
  ...CONTAINER_FLAGS,
];

export const runCommand: CommandSpec = {
  name: 'run',
  use: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  short: 'Create and run a new container from an image',
  interspersed: false,
  args: { kind: 'min', n: 1 },
  flags: RUN_FLAGS,
  async run(cli, f) {
    const detach = f.bool('detach');
    let req: CreateRequest;
    try {
      req = buildCreateRequest(f, f.args, detach, optsEnv(cli));
    } catch (err) {
      if (err instanceof OptionError) {
        reportError(cli, 'run', err.message);
        return 125;
      }
      throw err;
    }
    const body = req.body;
    if (!detach && body.Tty && body.AttachStdin && !cli.streams.in.isTTY) {
      throw new StatusError(1, 'the input device is not a TTY');
    }
    // As the docker CLI: the terminal's size goes with the create, so the TTY has it from the start.
    const out = cli.streams.out;
    if (!detach && body.Tty && out.isTTY && out.rows && out.columns) body.HostConfig = { ...body.HostConfig, ConsoleSize: [out.rows, out.columns] };

    let id: string;
    try {
      id = await createContainer(cli, req);
    } catch (err) {
      const msg = errorText(err);
      reportError(cli, 'run', msg);
      return startErrorStatus(msg);
    }
    const engine = cli.engine();

    if (detach) {
      // docker prints the ID before it starts the container.
      cli.println(id);
      try {
        await engine.post(`/containers/${id}/start`);
      } catch (err) {
        const msg = errorText(err);
        reportError(cli, 'run', msg);
        return startErrorStatus(msg);
      }
      return 0;
    }

    const unproxy = f.bool('sig-proxy') ? proxySignals(engine, id) : () => undefined;
    let attached: Attached | undefined;
    try {
      attached = await attach(cli, id, {
        stdin: !!body.AttachStdin,
        stdout: !!body.AttachStdout,
        stderr: !!body.AttachStderr,
        tty: !!body.Tty,
        detachKeys: f.string('detach-keys') || undefined,
      });
    } catch (err) {
      unproxy();
      throw new StatusError(1, errorText(err));
    }
    const autoRemove = !!body.HostConfig?.AutoRemove;
    let wait: Awaited<ReturnType<typeof registerWait>> | undefined;
    try {
      wait = await registerWait(cli, id, autoRemove ? 'removed' : 'next-exit');
    } catch (err) {
      // docker logs the failure and carries on with 125 as the eventual status.
      cli.eprintln(`error waiting for container: ${errorText(err)}`);
    }

    try {
      await engine.post(`/containers/${id}/start`);
    } catch (err) {
      attached.close();
      await attached.done.catch(() => undefined);
      const msg = errorText(err);
      reportError(cli, 'run', msg);
      if (autoRemove && wait) await wait.status().catch(() => 125);
      unproxy();
      return startErrorStatus(msg);
    }
    const unresize = body.Tty ? monitorTtySize(cli, id) : () => undefined;

    try {
      await attached.done;
    } catch (err) {
      unproxy();
      unresize();
      throw new StatusError(1, errorText(err));
    }
    if (attached.detached()) {
      // ctrl-p ctrl-q: the container runs on; docker exits 0 without waiting for it.
      unproxy();
      unresize();
      return 0;
    }
    const status = wait ? await wait.status().catch(() => 125) : 125;
    unproxy();
    unresize();
    return status;
  },
};
