/**
 * Health checks, as Docker runs them: Config.Healthcheck (the image's HEALTHCHECK merged with
 * the request's) is probed inside the running container every Interval (StartInterval while
 * "starting" within StartPeriod); Retries consecutive failures make it "unhealthy", a success
 * "healthy"; failures within StartPeriod do not count while it is still "starting". State.Health
 * keeps the last 5 results; each change of status is a `health_status: <status>` event.
 * Probing stops when the container dies or is paused and resumes on unpause.
 */
import { invalidArgument } from '../core/errors';
import type { ContainerManager, ContainerRecord } from './containers';
import type { ProbeRunner } from './probe';

export interface HealthConfig {
  Test?: string[] | null;
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface HealthLogEntry {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  Log: HealthLogEntry[];
}

const NS_PER_MS = 1e6;
const DEFAULT_INTERVAL = 30_000;
const DEFAULT_TIMEOUT = 30_000;
const DEFAULT_START_INTERVAL = 5_000;
const DEFAULT_RETRIES = 3;
const MAX_LOG = 5;

const DURATIONS = ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const;

/**
 * Config.Healthcheck of a new container: the request's, with what it leaves unset (empty Test,
 * zero durations and retries) taken from the image's; validated as Docker does.
 */
export function mergeHealthcheck(user: unknown, image: unknown): HealthConfig | undefined {
  const u = user && typeof user === 'object' ? ({ ...user } as HealthConfig) : undefined;
  const i = image && typeof image === 'object' ? (image as HealthConfig) : undefined;
  if (!u) return i;
  if (u.Test !== undefined && u.Test !== null && !(Array.isArray(u.Test) && u.Test.every((t) => typeof t === 'string'))) {
    throw invalidArgument('Healthcheck.Test must be a list of strings');
  }
  // docker-py sends null for unset fields; Docker reads null as zero (unset).
  for (const k of [...DURATIONS, 'Retries'] as const) if (u[k] === null) delete u[k];
  for (const k of DURATIONS) {
    const v = u[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v))) throw invalidArgument(`Healthcheck.${k} must be an integer (nanoseconds)`);
    if (v && v < 1_000_000) throw invalidArgument(`${k} in Healthcheck cannot be less than 1ms`);
  }
  if (u.Retries !== undefined && (typeof u.Retries !== 'number' || u.Retries < 0)) throw invalidArgument('Retries in Healthcheck cannot be negative');
  if (i) {
    if (!u.Test || u.Test.length === 0) u.Test = i.Test;
    for (const k of DURATIONS) if (!u[k] && i[k]) u[k] = i[k];
    if (!u.Retries && i.Retries) u.Retries = i.Retries;
  }
  return u;
}

/** The command a health check runs, or undefined for none (no Test, NONE, unknown kind). */
export function probeCommand(h: HealthConfig | undefined): string[] | undefined {
  const t = h?.Test;
  if (!t || t.length === 0) return undefined;
  if (t[0] === 'CMD' && t.length > 1) return t.slice(1);
  if (t[0] === 'CMD-SHELL' && t.length > 1) return ['/bin/sh', '-c', t.slice(1).join(' ')];
  return undefined;
}

const ms = (ns: number | undefined, def: number): number => (ns ? ns / NS_PER_MS : def);

/** Go's time.Duration.String for whole milliseconds and up ("30s", "1.5s", "500ms", "1m0s"). */
export function goDuration(msTotal: number): string {
  if (msTotal < 1000) return `${msTotal}ms`;
  const h = Math.floor(msTotal / 3_600_000);
  const m = Math.floor((msTotal % 3_600_000) / 60_000);
  const s = ((msTotal % 60_000) / 1000).toString();
  return (h ? `${h}h${m}m` : m ? `${m}m` : '') + `${s}s`;
}

interface Run {
  startedAt: string;
  stopped: boolean;
  timer?: NodeJS.Timeout;
}

type ManagerEvent = { Type: string; Action: string; id: string };

export class HealthMonitor {
  private readonly runs = new Map<string, Run>();

  constructor(
    private readonly m: ContainerManager,
    private readonly runner: ProbeRunner,
  ) {
    m.on('event', (e: ManagerEvent) => this.onEvent(e));
  }

  private onEvent(e: ManagerEvent): void {
    if (e.Type !== 'container') return;
    if (e.Action === 'start') this.begin(e.id, true);
    else if (e.Action === 'unpause') this.begin(e.id, false);
    else if (['die', 'pause', 'destroy'].includes(e.Action)) this.end(e.id);
  }

  /** Probes the containers that run with a health check (after a restart of berthd). */
  resumeAll(): void {
    for (const c of this.m.all()) if (c.State.Running && !c.State.Paused && !c.State.Restarting) this.begin(c.Id, false);
  }

  /** Starts probing; a new run (`reset`) starts again from "starting", keeping the log. */
  private begin(id: string, reset: boolean): void {
    this.end(id);
    const c = this.m.get(id);
    if (!c || !probeCommand(c.Config.Healthcheck as HealthConfig)) return;
    if (reset || !c.State.Health) {
      this.m.update(id, (r) => {
        r.State.Health = { Status: 'starting', FailingStreak: 0, Log: r.State.Health?.Log ?? [] };
        return true;
      });
    }
    const run: Run = { startedAt: c.State.StartedAt, stopped: false };
    this.runs.set(id, run);
    this.schedule(id, run);
  }

  private end(id: string): void {
    const run = this.runs.get(id);
    if (!run) return;
    run.stopped = true;
    if (run.timer) clearTimeout(run.timer);
    this.runs.delete(id);
  }

  /** Docker's getInterval: StartInterval while starting within StartPeriod, never past its end. */
  private nextDelay(c: ContainerRecord): number {
    const h = c.Config.Healthcheck as HealthConfig;
    const interval = ms(h.Interval, DEFAULT_INTERVAL);
    const startPeriod = ms(h.StartPeriod, 0);
    const elapsed = Date.now() - Date.parse(c.State.StartedAt);
    if (elapsed >= startPeriod) return interval;
    const remaining = startPeriod - elapsed;
    if (remaining < interval) return remaining;
    return c.State.Health?.Status === 'starting' ? ms(h.StartInterval, DEFAULT_START_INTERVAL) : interval;
  }

  private schedule(id: string, run: Run): void {
    const c = this.m.get(id);
    if (!c || run.stopped) return;
    run.timer = setTimeout(() => void this.probe(id, run), this.nextDelay(c));
  }

  private async probe(id: string, run: Run): Promise<void> {
    const c = this.m.get(id);
    const argv = c && probeCommand(c.Config.Healthcheck as HealthConfig);
    if (!c || !argv || run.stopped) return;
    const timeout = ms((c.Config.Healthcheck as HealthConfig).Timeout, DEFAULT_TIMEOUT);
    const start = new Date();
    let entry: HealthLogEntry;
    try {
      const r = await this.runner(c, argv, timeout);
      const output = r.timedOut ? `Health check exceeded timeout (${goDuration(timeout)})${r.output ? `: ${r.output}` : ''}` : r.output;
      entry = { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: r.timedOut ? -1 : r.exitCode, Output: output };
    } catch (e) {
      entry = { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: -1, Output: (e as Error).message };
    }
    if (run.stopped) return;
    this.record(id, run, entry);
    this.schedule(id, run);
  }

  /** Docker's handleProbeResult. */
  private record(id: string, run: Run, entry: HealthLogEntry): void {
    let changed: string | undefined;
    const c = this.m.update(id, (r) => {
      if (!r.State.Running || r.State.StartedAt !== run.startedAt) return false;
      const hc = r.Config.Healthcheck as HealthConfig;
      const h: HealthState = r.State.Health ?? { Status: 'starting', FailingStreak: 0, Log: [] };
      const old = h.Status;
      h.Log = [...h.Log, entry].slice(-MAX_LOG);
      if (entry.ExitCode === 0) {
        h.FailingStreak = 0;
        h.Status = 'healthy';
      } else {
        const inStartPeriod = h.Status === 'starting' && Date.parse(entry.Start) - Date.parse(r.State.StartedAt) < ms(hc.StartPeriod, 0);
        if (!inStartPeriod) {
          h.FailingStreak++;
          if (h.FailingStreak >= (hc.Retries && hc.Retries > 0 ? hc.Retries : DEFAULT_RETRIES)) h.Status = 'unhealthy';
        }
      }
      r.State.Health = h;
      if (h.Status !== old) changed = h.Status;
      return true;
    });
    if (c && changed) this.m.emit('event', { Type: 'container', Action: `health_status: ${changed}`, id, c });
  }

  close(): void {
    for (const id of [...this.runs.keys()]) this.end(id);
  }
}
