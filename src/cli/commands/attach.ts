/**
 * `berth attach`: the container's output (and our stdin, unless --no-stdin) until it exits or
 * the detach keys are typed; exits with the container's status, as docker attach does.
 */
import type { ContainerInspect } from '../../client/types';
import { StatusError, type CommandSpec } from '../cli';
import { attach, followAttached, proxySignals, registerWait } from './attach-io';

export const attachCommand: CommandSpec = {
  name: 'attach',
  use: '[OPTIONS] CONTAINER',
  short: 'Attach local standard input, output, and error streams to a running container',
  args: { kind: 'exact', n: 1 },
  flags: [
    { name: 'detach-keys', type: 'string', description: 'Override the key sequence for detaching a container' },
    { name: 'no-stdin', type: 'bool', description: 'Do not attach STDIN' },
    { name: 'sig-proxy', type: 'bool', default: true, description: 'Proxy all received signals to the process' },
  ],
  async run(cli, f) {
    const engine = cli.engine();
    const c = await engine.get<ContainerInspect>(`/containers/${encodeURIComponent(f.args[0])}/json`);
    const state = c.State as { Running?: boolean; Paused?: boolean; Restarting?: boolean } | undefined;
    if (!state?.Running) throw new StatusError(1, 'You cannot attach to a stopped container, start it first');
    if (state.Paused) throw new StatusError(1, 'You cannot attach to a paused container, unpause it first');
    if (state.Restarting) throw new StatusError(1, 'You cannot attach to a restarting container, wait until it is running');
    const tty = !!c.Config?.Tty;
    const stdin = !f.bool('no-stdin') && !!c.Config?.OpenStdin;
    if (tty && stdin && !cli.streams.in.isTTY) throw new StatusError(1, 'the input device is not a TTY');
    const wait = await registerWait(cli, c.Id, 'not-running');
    const unproxy = f.bool('sig-proxy') && !tty ? proxySignals(engine, c.Id) : () => undefined;
    const attached = await attach(cli, c.Id, { stdin, stdout: true, stderr: true, tty, detachKeys: f.string('detach-keys') || undefined });
    await followAttached(cli, c.Id, attached, { tty, unproxy });
    // The docker CLI reports the detach as an error (run does not).
    if (attached.detached()) throw new StatusError(1, 'read escape sequence');
    return wait.status();
  },
};
