/**
 * stop, kill, restart and rm: one request per container, run in parallel (at most 50 at a
 * time, as docker's parallelOperation), results reported in the order the names were given —
 * the name on stdout for a success, the errors together at the end (exit 1).
 */
import { EngineError } from '../../client/errors';
import type { Engine, Query } from '../../client/engine';
import { StatusError, errorText, type Cli, type CommandSpec } from '../cli';

const PARALLEL = 50;

/** Runs op over names with bounded parallelism; results in input order. */
export async function parallel<T>(names: readonly string[], op: (name: string) => Promise<T>): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = new Array(names.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await op(names[i]) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, names.length) }, worker));
  return results;
}

async function each(
  cli: Cli,
  names: readonly string[],
  op: (engine: Engine, name: string) => Promise<unknown>,
  ignore?: (err: unknown) => boolean,
): Promise<void> {
  const engine = cli.engine();
  const results = await parallel(names, (n) => op(engine, n));
  const errors: string[] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') {
      cli.println(names[i]);
    } else if (ignore?.(r.reason)) {
      cli.eprintln(errorText(r.reason));
    } else {
      errors.push(errorText(r.reason));
    }
  });
  if (errors.length > 0) throw new StatusError(1, errors.join('\n'));
}

const enc = encodeURIComponent;

function stopQuery(f: { has(n: string): boolean; int(n: string): number; string(n: string): string }): Query {
  const q: Query = {};
  if (f.has('timeout')) q.t = f.int('timeout');
  else if (f.has('time')) q.t = f.int('time');
  if (f.string('signal')) q.signal = f.string('signal');
  return q;
}

const TIMEOUT_FLAGS = [
  { name: 'signal', short: 's', type: 'string' as const, description: 'Signal to send to the container' },
  { name: 'timeout', short: 't', type: 'int' as const, description: 'Seconds to wait before killing the container' },
  { name: 'time', type: 'int' as const, description: 'Seconds to wait before killing the container', hidden: true },
];

export const stopCommand: CommandSpec = {
  name: 'stop',
  use: '[OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Stop one or more running containers',
  args: { kind: 'min', n: 1 },
  flags: TIMEOUT_FLAGS,
  async run(cli, f) {
    if (f.has('timeout') && f.has('time')) throw new StatusError(1, 'conflicting options: --timeout and --time');
    const q = stopQuery(f);
    await each(cli, f.args, (e, n) => e.post(`/containers/${enc(n)}/stop`, q));
  },
};

export const restartCommand: CommandSpec = {
  name: 'restart',
  use: '[OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Restart one or more containers',
  args: { kind: 'min', n: 1 },
  flags: TIMEOUT_FLAGS,
  async run(cli, f) {
    if (f.has('timeout') && f.has('time')) throw new StatusError(1, 'conflicting options: --timeout and --time');
    const q = stopQuery(f);
    // docker restarts one after the other.
    const engine = cli.engine();
    const errors: string[] = [];
    for (const n of f.args) {
      try {
        await engine.post(`/containers/${enc(n)}/restart`, q);
        cli.println(n);
      } catch (err) {
        errors.push(errorText(err));
      }
    }
    if (errors.length > 0) throw new StatusError(1, errors.join('\n'));
  },
};

export const killCommand: CommandSpec = {
  name: 'kill',
  use: '[OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Kill one or more running containers',
  args: { kind: 'min', n: 1 },
  flags: [{ name: 'signal', short: 's', type: 'string', description: 'Signal to send to the container' }],
  async run(cli, f) {
    const sig = f.string('signal');
    await each(cli, f.args, (e, n) => e.post(`/containers/${enc(n)}/kill`, sig ? { signal: sig } : undefined));
  },
};

export const rmCommand: CommandSpec = {
  name: 'rm',
  use: '[OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Remove one or more containers',
  args: { kind: 'min', n: 1 },
  flags: [
    { name: 'force', short: 'f', type: 'bool', description: 'Force the removal of a running container (uses SIGKILL)' },
    { name: 'link', short: 'l', type: 'bool', description: 'Remove the specified link' },
    { name: 'volumes', short: 'v', type: 'bool', description: 'Remove anonymous volumes associated with the container' },
  ],
  async run(cli, f) {
    const force = f.bool('force');
    const q: Query = { force: force || undefined, v: f.bool('volumes') || undefined, link: f.bool('link') || undefined };
    await each(
      cli,
      f.args,
      async (e, n) => {
        const id = n.replace(/^\/+|\/+$/g, '');
        if (id === '') throw new Error('Container name cannot be empty');
        return e.delete(`/containers/${enc(id)}`, q);
      },
      // With --force a container that is already gone is reported, but is not a failure.
      (err) => force && err instanceof EngineError && err.status === 404,
    );
  },
};

const pauseLike = (action: 'pause' | 'unpause', short: string): CommandSpec => ({
  name: action,
  use: 'CONTAINER [CONTAINER...]',
  short,
  args: { kind: 'min', n: 1 },
  flags: [],
  async run(cli, f) {
    await each(cli, f.args, (e, n) => e.post(`/containers/${enc(n)}/${action}`));
  },
});

export const pauseCommand = pauseLike('pause', 'Pause all processes within one or more containers');
export const unpauseCommand = pauseLike('unpause', 'Unpause all processes within one or more containers');
