/**
 * Restart policies (`no`, `on-failure[:N]`, `always`, `unless-stopped`), as Docker's restart
 * manager applies them: at each exit of the container's process the policy is read from
 * HostConfig.RestartPolicy (so an update takes effect at the next exit); a restart waits 100 ms,
 * doubling at each consecutive restart up to a minute, back to 100 ms once a run lasted 10 s.
 * A stop or kill by the user cancels the policy until the next manual start; berthd's own
 * shutdown does too. At boot, exited containers whose policy asks for it are started again.
 */
import { BerthError, invalidArgument } from '../core/errors';
import type { ContainerManager, ContainerRecord } from './containers';

export interface RestartPolicy {
  Name: string;
  MaximumRetryCount: number;
}

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 60_000;
const STABLE_RUN_MS = 10_000;
const POLICIES = ['no', 'always', 'unless-stopped', 'on-failure'];

/**
 * HostConfig.RestartPolicy of a create request, validated as Docker does ('' means 'no');
 * AutoRemove containers cannot have one.
 */
export function restartPolicyOf(hc: Record<string, any>): RestartPolicy {
  const raw = (hc.RestartPolicy ?? {}) as { Name?: unknown; MaximumRetryCount?: unknown };
  const name = typeof raw.Name === 'string' && raw.Name !== '' ? raw.Name : 'no';
  if (hc.AutoRemove && name !== 'no') throw invalidArgument("can't create 'AutoRemove' container with restart policy");
  const max = raw.MaximumRetryCount === undefined || raw.MaximumRetryCount === null ? 0 : raw.MaximumRetryCount;
  if (typeof max !== 'number' || !Number.isInteger(max)) throw invalidArgument('invalid restart policy: maximum retry count must be an integer');
  if (!POLICIES.includes(name)) {
    throw invalidArgument(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  if (name !== 'on-failure' && max !== 0) {
    throw invalidArgument(`invalid restart policy: maximum retry count can only be used with 'on-failure'${max < 0 ? ' and cannot be negative' : ''}`);
  }
  if (max < 0) throw invalidArgument('invalid restart policy: maximum retry count cannot be negative');
  return { Name: name, MaximumRetryCount: max };
}

function policy(c: ContainerRecord): RestartPolicy {
  const p = (c.HostConfig.RestartPolicy ?? {}) as Partial<RestartPolicy>;
  return { Name: p.Name || 'no', MaximumRetryCount: p.MaximumRetryCount ?? 0 };
}

/** Whether the policy asks for another run after an exit with `code` (Docker's ShouldRestart). */
export function policyWantsRestart(c: ContainerRecord, code: number): boolean {
  const p = policy(c);
  switch (p.Name) {
    case 'always':
      return true;
    case 'unless-stopped':
      return !c.berth.manuallyStopped;
    case 'on-failure':
      return code !== 0 && (p.MaximumRetryCount === 0 || c.RestartCount < p.MaximumRetryCount);
    default:
      return false;
  }
}

interface Tracked {
  delayMs: number;
  cancelled: boolean;
  timer?: NodeJS.Timeout;
}

/** Per-container back-off and cancellation, in memory like Docker's restart manager. */
export class RestartTracker {
  private readonly state = new Map<string, Tracked>();
  /** Set when berthd shuts down: exits from then on never restart. */
  shuttingDown = false;

  private of(id: string): Tracked {
    let t = this.state.get(id);
    if (!t) {
      t = { delayMs: 0, cancelled: false };
      this.state.set(id, t);
    }
    return t;
  }

  /** At an exit: the delay before the policy's restart, or undefined when there is none. */
  onExit(c: ContainerRecord, code: number, now = Date.now()): number | undefined {
    if (policy(c).Name === 'no') return undefined;
    const t = this.of(c.Id);
    if (t.cancelled || this.shuttingDown) return undefined;
    if (now - Date.parse(c.State.StartedAt) >= STABLE_RUN_MS) t.delayMs = 0;
    t.delayMs = t.delayMs === 0 ? FIRST_DELAY_MS : Math.min(t.delayMs * 2, MAX_DELAY_MS);
    return policyWantsRestart(c, code) ? t.delayMs : undefined;
  }

  schedule(id: string, delayMs: number, run: () => Promise<void>): void {
    const t = this.of(id);
    if (t.timer) clearTimeout(t.timer);
    t.timer = setTimeout(() => {
      t.timer = undefined;
      void run();
    }, delayMs);
  }

  /** A stop or kill by the user (or the daemon): no policy restart until the next manual start. */
  cancel(id: string): void {
    const t = this.of(id);
    t.cancelled = true;
    if (t.timer) clearTimeout(t.timer);
    t.timer = undefined;
  }

  /** A manual start: a fresh back-off, the policy active again. */
  reset(id: string): void {
    this.forget(id);
  }

  forget(id: string): void {
    const t = this.state.get(id);
    if (t?.timer) clearTimeout(t.timer);
    this.state.delete(id);
  }

  close(): void {
    for (const id of [...this.state.keys()]) this.forget(id);
  }
}

/**
 * At daemon start: containers that ran before and whose policy wants them back (`always`;
 * `unless-stopped` unless the user stopped it; `on-failure` after a failure, within its count)
 * are started again, as dockerd's restore does.
 */
export async function startOnBoot(m: ContainerManager): Promise<void> {
  const todo = m.all().filter((c) => !c.State.Running && c.State.Status === 'exited' && policyWantsRestart(c, c.State.ExitCode));
  await Promise.all(
    todo.map((c) =>
      m.start(c.Id).catch((e: unknown) => {
        if (!(e instanceof BerthError && e.kind === 'not-modified')) m.emit('error-log', e);
      }),
    ),
  );
}
