import type { ContainerInspect } from '../../client/types';
import { StatusError, errorText, type CommandSpec } from '../cli';
import { attach, followAttached, proxySignals, registerWait } from './attach-io';

export const startCommand: CommandSpec = {
  name: 'start',
  use: '[OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Start one or more stopped containers',
  args: { kind: 'min', n: 1 },
  flags: [
    { name: 'attach', short: 'a', type: 'bool', description: 'Attach STDOUT/STDERR and forward signals' },
    { name: 'interactive', short: 'i', type: 'bool', description: "Attach container's STDIN" },
    { name: 'detach-keys', type: 'string', description: 'Override the key sequence for detaching a container' },
  ],
  async run(cli, f) {
    const engine = cli.engine();
    const names = f.args;
    if (f.bool('attach') || f.bool('interactive')) {
      if (names.length > 1) throw new StatusError(1, 'you cannot start and attach multiple containers at once');
      const c = await engine.get<ContainerInspect>(`/containers/${encodeURIComponent(names[0])}/json`);
      const tty = !!c.Config?.Tty;
      const stdin = f.bool('interactive') && !!c.Config?.OpenStdin;
      if (tty && stdin && !cli.streams.in.isTTY) throw new StatusError(1, 'the input device is not a TTY');
      const unproxy = f.bool('attach') && !tty ? proxySignals(engine, c.Id) : () => undefined;
      const attached = await attach(cli, c.Id, { stdin, stdout: true, stderr: true, tty, detachKeys: f.string('detach-keys') || undefined });
      const autoRemove = !!(c.HostConfig as { AutoRemove?: boolean } | undefined)?.AutoRemove;
      const wait = await registerWait(cli, c.Id, autoRemove ? 'removed' : 'next-exit');
      try {
        await engine.post(`/containers/${encodeURIComponent(c.Id)}/start`);
      } catch (err) {
        attached.close();
        await attached.done.catch(() => undefined);
        if (autoRemove) await wait.status().catch(() => 125);
        unproxy();
        throw err;
      }
      await followAttached(cli, c.Id, attached, { tty, unproxy });
      if (attached.detached()) return 0;
      const status = await wait.status();
      return status;
    }

    const failed: string[] = [];
    for (const name of names) {
      try {
        await engine.post(`/containers/${encodeURIComponent(name)}/start`);
        cli.println(name);
      } catch (err) {
        cli.eprintln(errorText(err));
        failed.push(name);
      }
    }
    if (failed.length > 0) throw new StatusError(1, `Error: failed to start containers: ${failed.join(', ')}`);
  },
};
