import fs from 'node:fs';
import { AUTH_HEADER, encodeAuthConfig } from '../../client/auth';
import { EngineError } from '../../client/errors';
import type { ContainerCreateResponse } from '../../client/types';
import { BIN, StatusError, errorText, type Cli, type CommandSpec } from '../cli';
import { displayJsonMessages } from '../jsonmessage';
import { familiarString, fullName, parseNormalizedNamed, tagNameOnly, type Reference } from '../reference';
import { CONTAINER_FLAGS, OptionError, buildCreateRequest, type CreateRequest } from './container-opts';

export function optsEnv(cli: Cli): { readFile: (p: string) => string; env: NodeJS.ProcessEnv } {
  return { readFile: (p) => fs.readFileSync(p, 'utf8'), env: cli.env };
}

/** docker's reportError for run/create: `berth: <msg>` and a pointer to --help. */
export function reportError(cli: Cli, command: string, message: string): void {
  cli.eprintln(`${BIN}: ${message}\n\nRun '${BIN} ${command} --help' for more information`);
}

/**
 * POST /images/create?fromImage=...&tag=..., with the registry's credentials from config.json
 * (a credential helper's failure fails the pull, as in docker), progress to stderr (or nowhere
 * with -q).
 */
export async function pullImage(cli: Cli, ref: Reference, quiet: boolean): Promise<void> {
  const tag = ref.digest ?? tagNameOnly(ref).tag;
  const { authConfigKey } = await import('../dockerconfig');
  const auth = await cli.configFile().getAuthConfig(authConfigKey(ref.domain));
  const res = await cli.engine().stream('POST', '/images/create', {
    query: { fromImage: fullName(ref), tag },
    headers: { [AUTH_HEADER]: encodeAuthConfig(auth) },
  });
  const sink = quiet ? { write: () => true, isTTY: false } : cli.streams.err;
  await displayJsonMessages(res, sink);
}

/**
 * Creates the container; when the image is missing and --pull is "missing" (the default),
 * says so on stderr, pulls it, and tries once more. Returns the new container's ID.
 */
export async function createContainer(cli: Cli, req: CreateRequest): Promise<string> {
  const engine = cli.engine();
  let named: Reference | undefined;
  try {
    named = parseNormalizedNamed(req.body.Image ?? '');
  } catch {
    named = undefined;
  }
  if (req.pull === 'always' && named) await pullImage(cli, named, req.quiet);
  const create = (): Promise<ContainerCreateResponse> =>
    engine.post<ContainerCreateResponse>('/containers/create', { name: req.name }, req.body);
  let res: ContainerCreateResponse;
  try {
    res = await create();
  } catch (err) {
    if (!(err instanceof EngineError && err.status === 404 && named && req.pull === 'missing')) throw err;
    if (!req.quiet) cli.eprintln(`Unable to find image '${familiarString(tagNameOnly(named))}' locally`);
    await pullImage(cli, named, req.quiet);
    res = await create();
  }
  for (const w of res.Warnings ?? []) cli.eprintln(`WARNING: ${w}`);
  return res.Id;
}

export const createCommand: CommandSpec = {
  name: 'create',
  use: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  short: 'Create a new container',
  interspersed: false,
  args: { kind: 'min', n: 1 },
  flags: CONTAINER_FLAGS.map((f) =>
    f.name === 'pull' ? { ...f, description: 'Pull image before creating ("always", "|missing", "never")' } : f,
  ),
  async run(cli, f) {
    let req: CreateRequest;
    try {
      req = buildCreateRequest(f, f.args, true, optsEnv(cli));
    } catch (err) {
      if (err instanceof OptionError) {
        reportError(cli, 'create', err.message);
        throw new StatusError(125);
      }
      throw err;
    }
    const id = await createContainer(cli, req).catch((err: unknown) => {
      throw new StatusError(1, errorText(err));
    });
    cli.println(id);
  },
};
