/**
 * `berth build` (also `image build`, `builder build`) and `berth builder prune`: docker's legacy
 * build client (cli/command/image/build.go with DOCKER_BUILDKIT=0) against POST /build.
 *
 * The context directory is tarred here with .dockerignore applied (packContext), streamed to the
 * daemon as it is made, and the daemon's classic stream is printed as docker prints it. On a
 * terminal (or with --progress=tty) each finished step also shows how long it took, and the
 * build its total. A build error goes to stderr and the exit status is the error's code — a
 * failing RUN's own exit status, as with docker — or 1.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { Readable, pipeline } from 'node:stream';
import { jsonMessages, type Query } from '../../client/engine';
import { AUTH_FIELDS, goJson } from '../../client/auth';
import { packContext } from '../../build/context/tar';
import { humanSize, parseBytes } from '../../util/units';
import { StatusError, type Cli, type CommandSpec } from '../cli';
import type { ParsedFlags } from '../flags';
import { displayJsonMessages, JsonMessageError, type Out } from '../jsonmessage';
import { readInput } from '../prompt';
import {
  BUILD_FLAGS,
  BUILDER_PRUNE_FLAGS,
  buildQuery,
  buildRequest,
  detectContextType,
  outsideContext,
  resolveContextDir,
  resolveDockerfile,
  type ProgressMode,
} from './build-opts';
import {
  ByteCounter,
  addDockerfileToContext,
  dockerfileOnlyContext,
  isArchive,
  peek,
  randomDockerfileName,
  readStream,
} from './build-context';
import { SendProgress, StepTimer, type TextOut } from './build-display';
import { filtersJson } from './filters';

/** X-Registry-Config: every credential config.json knows, base64url JSON keyed by registry. */
async function registryConfig(cli: Cli): Promise<string> {
  const cfg = cli.configFile();
  const all: Record<string, Record<string, string>> = {};
  if (cfg.containsAuth()) {
    const keys = new Set([...cfg.auths.keys(), ...Object.keys(cfg.credHelpers)]);
    for (const key of keys) {
      try {
        const a = await cfg.getAuthConfig(key);
        const o: Record<string, string> = {};
        for (const k of AUTH_FIELDS) if (a[k]) o[k] = a[k]!;
        if (Object.keys(o).length) all[key] = o;
      } catch {
        // docker ignores credentials it cannot read here too
      }
    }
  }
  return Buffer.from(goJson(all), 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

function readDockerignore(dir: string): string[] {
  try {
    return fs.readFileSync(path.join(dir, '.dockerignore'), 'utf8').split('\n');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new StatusError(1, `error reading .dockerignore: ${(err as Error).message}`);
  }
}

/** The context tar and the Dockerfile's name in it. */
async function prepareContext(cli: Cli, contextArg: string, file: string): Promise<{ tar: Readable; dockerfile: string }> {
  let type: ReturnType<typeof detectContextType>;
  try {
    type = detectContextType(contextArg);
  } catch (err) {
    throw new StatusError(1, (err as Error).message);
  }
  if (file === '-' && type === 'stdin') throw new StatusError(1, "invalid argument: can't use stdin for both build context and dockerfile");
  if (type === 'git' || type === 'url') {
    throw new StatusError(1, `unable to prepare context: building from a ${type === 'git' ? 'git repository' : 'URL'} is not supported; clone or download it and build the directory`);
  }

  if (type === 'stdin') {
    const { head, stream } = await peek(cli.streams.in, 512);
    if (isArchive(head)) return { tar: stream, dockerfile: file };
    const text = await readStream(stream);
    return { tar: Readable.from([dockerfileOnlyContext(text)]), dockerfile: 'Dockerfile' };
  }

  let dir: string;
  let rel: string;
  try {
    dir = resolveContextDir(contextArg);
    rel = resolveDockerfile(dir, file);
  } catch (err) {
    throw new StatusError(1, `unable to prepare context: ${(err as Error).message}`);
  }
  let external: Buffer | undefined;
  if (rel === '-') {
    external = await readStream(cli.streams.in);
  } else if (outsideContext(rel)) {
    try {
      external = fs.readFileSync(path.resolve(dir, rel));
    } catch (err) {
      throw new StatusError(1, `unable to open Dockerfile: ${(err as Error).message}`);
    }
  }
  const ignore = readDockerignore(dir);
  const packed = packContext(dir, { dockerfile: external ? '' : rel, ignore });
  if (external) {
    const name = randomDockerfileName();
    return { tar: addDockerfileToContext(packed, external, name), dockerfile: name };
  }
  return { tar: packed as Readable, dockerfile: rel.split(path.sep).join('/') };
}

function exitCode(code: unknown): number {
  return typeof code === 'number' && Number.isInteger(code) && code > 0 && code < 256 ? code : 1;
}

async function runBuild(cli: Cli, f: ParsedFlags): Promise<void> {
  const started = Date.now();
  const out = cli.streams.out;
  const engine = cli.engine();
  const req = buildRequest(f, cli.env, cli.configFile().proxyConfig(engine.host));
  const quiet = req.quiet;
  const iidfile = f.string('iidfile');
  const mode = f.string('progress') as ProgressMode;

  if (iidfile) {
    // No stale file if this build fails.
    try {
      fs.unlinkSync(iidfile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new StatusError(1, `Removing image ID file: ${(err as Error).message}`);
    }
  }

  // With -q, everything is kept and shown (on stderr) only if the build fails.
  let progBuf = '';
  let buildBuf = '';
  const progOut: TextOut = quiet ? { write: (s: string) => (progBuf += s) } : out;

  const ctx = await prepareContext(cli, f.args[0], f.string('file'));
  req.dockerfile = ctx.dockerfile;

  const progress = new SendProgress(progOut, !quiet && !!out.isTTY);
  const counter = new ByteCounter((n, done) => progress.update(n, done));
  const stages: NodeJS.ReadWriteStream[] = f.bool('compress') ? [zlib.createGzip()] : [];
  pipeline([ctx.tar, ...stages, counter], (err) => {
    if (err && !counter.destroyed) counter.destroy(err);
  });

  let res: Awaited<ReturnType<typeof engine.stream>>;
  try {
    res = await engine.stream('POST', '/build', {
      query: buildQuery(req),
      body: counter,
      headers: { 'Content-Type': 'application/x-tar', 'X-Registry-Config': await registryConfig(cli) },
    });
  } catch (err) {
    progress.abort();
    ctx.tar.destroy();
    counter.destroy();
    if (quiet && progBuf) cli.err(progBuf);
    throw err;
  }

  const timer = !quiet && (mode === 'tty' || (mode === 'auto' && !!out.isTTY)) ? new StepTimer(!!out.isTTY && !cli.env.NO_COLOR) : undefined;
  let target: Out;
  if (quiet) target = { write: (s: string) => (buildBuf += s), isTTY: false };
  else if (timer) target = { write: (s: string) => out.write(timer.feed(s)), isTTY: out.isTTY, columns: out.columns };
  else target = out;

  let imageId = '';
  let errorCode: unknown;
  async function* messages(): AsyncGenerator<string> {
    for await (const m of jsonMessages(res)) {
      if (m.errorDetail) errorCode = m.errorDetail.code;
      yield `${JSON.stringify(m)}\n`;
    }
  }
  try {
    await displayJsonMessages(messages(), target, {
      onAux: (aux) => {
        const id = (aux as { ID?: unknown } | null)?.ID;
        if (typeof id === 'string') imageId = id;
      },
    });
  } catch (err) {
    if (timer) out.write(timer.flush());
    if (err instanceof JsonMessageError) {
      if (quiet) cli.err(progBuf + buildBuf);
      throw new StatusError(exitCode(errorCode), err.message);
    }
    throw err;
  }
  if (timer) {
    out.write(timer.flush());
    out.write(timer.total(Date.now() - started));
  }

  if (quiet) {
    // The daemon's quiet stream is the image id; print it as it came.
    cli.out(buildBuf || (imageId ? `${imageId}\n` : ''));
    if (!imageId) imageId = buildBuf.trim();
  }
  if (iidfile) {
    if (!imageId) throw new StatusError(1, `Server did not provide an image ID. Cannot write ${iidfile}`);
    fs.writeFileSync(iidfile, imageId, { mode: 0o666 });
  }
}

export const buildCommand: CommandSpec = {
  name: 'build',
  use: '[OPTIONS] PATH | -',
  short: 'Build an image from a Dockerfile',
  args: { kind: 'exact', n: 1 },
  flags: BUILD_FLAGS,
  async run(cli, f) {
    await runBuild(cli, f);
  },
};

const PRUNE_WARNING = 'WARNING! This will remove all dangling build cache. Are you sure you want to continue?';
const PRUNE_ALL_WARNING = 'WARNING! This will remove all build cache. Are you sure you want to continue?';

interface BuildCachePruneReport {
  CachesDeleted?: string[] | null;
  SpaceReclaimed?: number;
}

export const builderPruneCommand: CommandSpec = {
  name: 'prune',
  use: '',
  short: 'Remove build cache',
  args: { kind: 'none' },
  flags: BUILDER_PRUNE_FLAGS,
  async run(cli, f) {
    const all = f.bool('all');
    if (!f.bool('force')) {
      const answer = await readInput(cli.lines(), cli.streams.out, `${all ? PRUNE_ALL_WARNING : PRUNE_WARNING} [y/N] `);
      // docker: "builder prune has been cancelled", exit 0 without a message
      if (answer.toLowerCase() !== 'y') return;
    }
    const keep = f.string('keep-storage');
    const query: Query = {
      all: all || undefined,
      'keep-storage': keep ? String(parseBytes(keep)) : undefined,
      filters: filtersJson(f.list('filter')),
    };
    const report = await cli.engine().post<BuildCachePruneReport | undefined>('/build/prune', query);
    const deleted = report?.CachesDeleted ?? [];
    if (deleted.length > 0) cli.println(`Deleted build cache objects:\n${deleted.map((id) => `${id}\n`).join('')}`);
    cli.println(`Total reclaimed space: ${humanSize(report?.SpaceReclaimed ?? 0, 4)}`);
  },
};
