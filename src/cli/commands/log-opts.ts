/**
 * `--log-driver` and `--log-opt` of run/create, as HostConfig.LogConfig (docker's parseLoggingOpts).
 */
import type { FlagSpec, ParsedFlags } from '../flags';
import type { ContainerCreateBody } from '../../client/types';

export const LOG_FLAGS: FlagSpec[] = [
  { name: 'log-driver', type: 'string', description: 'Logging driver for the container' },
  { name: 'log-opt', type: 'list', description: 'Log driver options' },
];

/** Sets HostConfig.LogConfig; throws Error with docker's wording for options given to "none". */
export function applyLogOptions(f: ParsedFlags, body: ContainerCreateBody): void {
  const driver = f.string('log-driver');
  const opts: Record<string, string> = {};
  for (const kv of f.list('log-opt')) {
    const i = kv.indexOf('=');
    if (i < 0) opts[kv] = '';
    else opts[kv.slice(0, i)] = kv.slice(i + 1);
  }
  if (driver === 'none' && Object.keys(opts).length) throw new Error('invalid logging opts for driver none');
  if (!driver && !Object.keys(opts).length) return; // the daemon's default
  const hc = (body.HostConfig ??= {}) as Record<string, unknown>;
  hc.LogConfig = { Type: driver, Config: opts };
}
