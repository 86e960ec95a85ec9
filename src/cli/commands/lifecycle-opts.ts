/**
 * `run`/`create` options for what happens over a container's life: --restart (a restart policy)
 * and the health check flags, turned into the create body as docker's CLI does.
 */
import type { FlagSpec, ParsedFlags } from '../flags';
import type { ContainerCreateBody } from '../../client/types';

const HEALTH_DURATIONS = ['health-interval', 'health-timeout', 'health-start-period', 'health-start-interval'] as const;

export const LIFE_FLAGS: FlagSpec[] = [
  { name: 'restart', type: 'string', default: 'no', description: 'Restart policy to apply when a container exits' },
  { name: 'health-cmd', type: 'string', description: 'Command to run to check health' },
  { name: 'health-interval', type: 'duration', description: 'Time between running the check (ms|s|m|h) (default 0s)' },
  { name: 'health-retries', type: 'int', description: 'Consecutive failures needed to report unhealthy' },
  {
    name: 'health-start-interval',
    type: 'duration',
    description: 'Time between running the check during the start period (ms|s|m|h) (default 0s)',
  },
  {
    name: 'health-start-period',
    type: 'duration',
    description: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)',
  },
  { name: 'health-timeout', type: 'duration', description: 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)' },
  { name: 'no-healthcheck', type: 'bool', description: 'Disable any container-specified HEALTHCHECK' },
];

/** docker's opts.ParseRestartPolicy: "name[:max-retries]"; '' leaves the daemon's default. */
export function parseRestartPolicy(v: string): { Name: string; MaximumRetryCount: number } | undefined {
  if (v === '') return undefined;
  const colon = v.indexOf(':');
  const name = colon < 0 ? v : v.slice(0, colon);
  const count = colon < 0 ? '' : v.slice(colon + 1);
  if (colon >= 0 && name === '') throw new Error('invalid restart policy format: no policy provided before colon');
  let max = 0;
  if (count !== '') {
    if (!/^[+-]?\d+$/.test(count)) throw new Error('invalid restart policy format: maximum retry count must be an integer');
    max = Number(count);
  }
  return { Name: name, MaximumRetryCount: max };
}

/** The health check of the request, as docker's CLI builds it (errors are docker's). */
export function healthConfig(f: ParsedFlags): Record<string, unknown> | undefined {
  const any = f.string('health-cmd') !== '' || f.int('health-retries') !== 0 || HEALTH_DURATIONS.some((n) => f.duration(n) !== 0);
  if (f.bool('no-healthcheck')) {
    if (any) throw new Error('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  for (const n of HEALTH_DURATIONS) if (f.duration(n) < 0) throw new Error(`--${n} cannot be negative`);
  if (f.int('health-retries') < 0) throw new Error('--health-retries cannot be negative');
  // Zero values are left out, as Go's omitempty does.
  const hc: Record<string, unknown> = {};
  if (f.string('health-cmd')) hc.Test = ['CMD-SHELL', f.string('health-cmd')];
  const fields = { Interval: 'health-interval', Timeout: 'health-timeout', StartPeriod: 'health-start-period', StartInterval: 'health-start-interval' };
  for (const [k, flag] of Object.entries(fields)) if (f.duration(flag)) hc[k] = f.duration(flag);
  if (f.int('health-retries')) hc.Retries = f.int('health-retries');
  return hc;
}

/** Adds the restart policy and health check to the create body. */
export function applyLifeOptions(f: ParsedFlags, body: ContainerCreateBody): void {
  const policy = parseRestartPolicy(f.string('restart'));
  const hc = (body.HostConfig ??= {}) as Record<string, unknown>;
  if (policy) {
    if (hc.AutoRemove && policy.Name !== 'no') throw new Error('conflicting options: cannot specify both --restart and --rm');
    hc.RestartPolicy = policy;
  }
  const health = healthConfig(f);
  if (health) (body as Record<string, unknown>).Healthcheck = health;
}
