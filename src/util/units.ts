// Docker's go-units, as the docker CLI prints sizes, durations and container states, plus the
// Go float formatting (strconv 'e', 'f', 'g') that those strings and the template engine's printf
// are made of. Output must match docker byte for byte: scripts parse it.
//
// Go rounds decimal conversions half-to-even on the exact binary value (1.125 -> "1.12" with
// %.3g), while JavaScript's toFixed/toPrecision round ties up, so the fixed-precision paths
// below work on the exact decimal expansion of the double (BigInt), not on toPrecision.

/** A non-negative decimal: 0.<digits> × 10^dp, digits without trailing zeros ('' is zero). */
interface Decimal {
  digits: string;
  dp: number;
}

const f64 = new DataView(new ArrayBuffer(8));

/** The exact decimal value of a finite, non-negative double. */
function exactDecimal(x: number): Decimal {
  f64.setFloat64(0, x);
  const hi = f64.getUint32(0);
  const lo = f64.getUint32(4);
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (expBits === 0) {
    exp = -1074;
  } else {
    mant |= 1n << 52n;
    exp = expBits - 1075;
  }
  if (mant === 0n) return { digits: '', dp: 0 };
  let s: string;
  let dp: number;
  if (exp >= 0) {
    s = (mant << BigInt(exp)).toString();
    dp = s.length;
  } else {
    s = (mant * 5n ** BigInt(-exp)).toString();
    dp = s.length + exp;
  }
  return trimZeros({ digits: s, dp });
}

function trimZeros(d: Decimal): Decimal {
  let n = d.digits.length;
  while (n > 0 && d.digits.charCodeAt(n - 1) === 48) n--;
  return n === 0 ? { digits: '', dp: 0 } : { digits: d.digits.slice(0, n), dp: d.dp };
}

/** Keeps nd digits, rounding half to even on exact ties (Go's decimal.Round). */
function roundDecimal(d: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= d.digits.length) return d;
  const next = d.digits.charCodeAt(nd) - 48;
  let up: boolean;
  if (next === 5 && nd + 1 === d.digits.length) {
    up = nd > 0 && (d.digits.charCodeAt(nd - 1) - 48) % 2 === 1;
  } else {
    up = next >= 5;
  }
  if (!up) return trimZeros({ digits: d.digits.slice(0, nd), dp: d.dp });
  let i = nd - 1;
  while (i >= 0 && d.digits[i] === '9') i--;
  if (i < 0) return { digits: '1', dp: d.dp + 1 };
  return trimZeros({ digits: d.digits.slice(0, i) + String.fromCharCode(d.digits.charCodeAt(i) + 1), dp: d.dp });
}

/** The shortest decimal that reads back as x (what Go's 'g' with precision -1 prints). */
function shortestDecimal(x: number): Decimal {
  if (x === 0) return { digits: '', dp: 0 };
  const [mant, e] = x.toExponential().split('e');
  return trimZeros({ digits: mant.replace('.', ''), dp: Number(e) + 1 });
}

function fmtE(d: Decimal, prec: number, upper: boolean): string {
  let s = d.digits.length === 0 ? '0' : d.digits[0];
  if (prec > 0) {
    s += '.';
    const frac = d.digits.slice(1, 1 + prec);
    s += frac + '0'.repeat(prec - frac.length);
  }
  const exp = d.digits.length === 0 ? 0 : d.dp - 1;
  const abs = Math.abs(exp);
  return s + (upper ? 'E' : 'e') + (exp < 0 ? '-' : '+') + (abs < 10 ? '0' : '') + abs;
}

function fmtF(d: Decimal, prec: number): string {
  let s: string;
  if (d.dp > 0) {
    const m = Math.min(d.digits.length, d.dp);
    s = d.digits.slice(0, m) + '0'.repeat(d.dp - m);
  } else {
    s = '0';
  }
  if (prec > 0) {
    s += '.';
    for (let i = 0; i < prec; i++) {
      const j = d.dp + i;
      s += j >= 0 && j < d.digits.length ? d.digits[j] : '0';
    }
  }
  return s;
}

/**
 * Go's strconv.FormatFloat(x, fmt, prec, 64): fmt one of e E f F g G; prec -1 means the
 * shortest representation. Infinities print as "+Inf"/"-Inf", NaN as "NaN".
 */
export function formatFloat(x: number, fmt: string, prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const abs = Math.abs(x);
  const shortest = prec < 0;
  let d: Decimal;
  const lower = fmt.toLowerCase();
  if (shortest) {
    d = shortestDecimal(abs);
    if (lower === 'e') prec = Math.max(d.digits.length - 1, 0);
    else if (lower === 'f') prec = Math.max(d.digits.length - d.dp, 0);
    else prec = d.digits.length;
  } else {
    d = exactDecimal(abs);
    if (lower === 'e') d = roundDecimal(d, prec + 1);
    else if (lower === 'f') d = roundDecimal(d, d.dp + prec);
    else {
      if (prec === 0) prec = 1;
      d = roundDecimal(d, prec);
    }
  }
  let body: string;
  if (lower === 'e') {
    body = fmtE(d, prec, fmt === 'E');
  } else if (lower === 'f') {
    body = fmtF(d, prec);
  } else {
    let eprec = prec;
    if (eprec > d.digits.length && d.digits.length >= d.dp) eprec = d.digits.length;
    if (shortest) eprec = 6;
    const exp = d.dp - 1;
    if (exp < -4 || exp >= eprec) {
      if (prec > d.digits.length) prec = d.digits.length;
      body = fmtE(d, prec - 1, fmt === 'G');
    } else {
      if (prec > d.dp) prec = d.digits.length;
      body = fmtF(d, Math.max(prec - d.dp, 0));
    }
  }
  return (neg ? '-' : '') + body;
}

// ---------------------------------------------------------------------------------------------
// Sizes

const decimalUnits = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const binaryUnits = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function scaled(size: number, base: number, units: string[], prec: number): string {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return formatFloat(size, 'g', prec) + units[i];
}

/**
 * Decimal size as docker's list commands print it (units.HumanSizeWithPrecision(size, 3)):
 * "512B", "4.1kB", "1.23MB", and Go's quirks with it ("1e+03kB" for 999999).
 * precision 4 gives units.HumanSize, as `docker system df` prints.
 */
export function humanSize(bytes: number, precision = 3): string {
  return scaled(bytes, 1000, decimalUnits, precision);
}

/** Binary size as units.BytesSize prints it (docker stats memory): "1.5MiB", "512B". */
export function bytesSize(bytes: number): string {
  return scaled(bytes, 1024, binaryUnits, 4);
}

const binaryMul: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
const decimalMul: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };

const goDecimal = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const goHex = /^[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+$/;
const goSpecial = /^[+-]?(?:inf|infinity|nan)$/i;

/** strconv.ParseFloat(num, 64): decimal, hex with a p exponent, inf, infinity, nan. */
function parseGoFloat(num: string): number {
  if (goDecimal.test(num)) return Number(num);
  if (goSpecial.test(num)) return /nan/i.test(num) ? NaN : num.startsWith('-') ? -Infinity : Infinity;
  const hex = goHex.exec(num) && /^([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)[pP]([+-]?\d+)$/.exec(num);
  if (hex) {
    const v = parseInt((hex[2] || '0') + hex[3], 16) / 16 ** hex[3].length;
    return (hex[1] === '-' ? -1 : 1) * v * 2 ** Number(hex[4]);
  }
  throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(num)}: invalid syntax`);
}

function parseSize(str: string, mul: Record<string, number>): number {
  let num: string;
  let sfx: string;
  const sp = str.indexOf(' ');
  if (sp >= 0) {
    num = str.slice(0, sp);
    sfx = str.slice(sp + 1);
  } else {
    let sep = -1;
    for (let i = str.length - 1; i >= 0; i--) {
      if ('0123456789.'.includes(str[i])) {
        sep = i;
        break;
      }
    }
    if (sep < 0) throw new Error(`invalid size: '${str}'`);
    num = str.slice(0, sep + 1);
    sfx = str.slice(sep + 1);
  }
  let size = parseGoFloat(num);
  if (size < 0) throw new Error(`invalid size: '${str}'`);
  if (sfx.length === 0) return Math.trunc(size);
  const lower = sfx.toLowerCase();
  const bad = () => new Error(`invalid suffix: '${lower.length > 3 ? sfx : lower}'`);
  if (sfx.length > 3) throw bad();
  if (lower[0] === 'b') {
    if (lower.length > 1) throw bad();
    return Math.trunc(size);
  }
  const m = mul[lower[0]];
  if (m === undefined) throw bad();
  if ((lower.length === 2 && lower[1] !== 'b') || (lower.length === 3 && lower.slice(1) !== 'ib')) throw bad();
  size *= m;
  return Math.trunc(size);
}

/**
 * A size flag (`--memory 32m`, `--shm-size 1g`) as docker parses it (units.RAMInBytes): binary
 * multiples k m g t p, case-insensitive, optional "b" or "ib" ("1.5GiB", "512kb", "100").
 * Throws Error("invalid size: '...'") or Error("invalid suffix: '...'").
 */
export function parseBytes(str: string): number {
  return parseSize(str, binaryMul);
}

/** Decimal variant (units.FromHumanSize): "44kB" is 44000. */
export function fromHumanSize(str: string): number {
  return parseSize(str, decimalMul);
}

// ---------------------------------------------------------------------------------------------
// Durations and states

/**
 * units.HumanDuration: "Less than a second", "1 second", "59 seconds", "About a minute",
 * "5 minutes", "About an hour", "3 hours", "2 days", "3 weeks", "4 months", "2 years".
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3600000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3600000) / 24 / 365)} years`;
}

/** A time as milliseconds since the epoch; undefined for Go's zero time ("0001-01-01T00:00:00Z") or nothing. */
function toMillis(t: string | number | Date | undefined | null): number | undefined {
  if (t === undefined || t === null || t === '') return undefined;
  if (typeof t === 'number') return t;
  if (t instanceof Date) return t.getTime();
  if (t.startsWith('0001-01-01')) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** "2 minutes ago", as docker's CREATED columns print it; t is an ISO string, a Date or epoch ms. */
export function timeAgo(t: string | number | Date, now: number = Date.now()): string {
  return humanDuration(now - (toMillis(t) ?? 0)) + ' ago';
}

/** What containerStatus needs; fields follow the Engine API's State object (camelCase). */
export interface ContainerStateInfo {
  /** "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead" */
  status?: string;
  running?: boolean;
  paused?: boolean;
  restarting?: boolean;
  removalInProgress?: boolean;
  dead?: boolean;
  exitCode?: number;
  /** ISO 8601; empty or Go's zero time when never started */
  startedAt?: string;
  finishedAt?: string;
  /** health status when the container has a healthcheck: "starting" | "healthy" | "unhealthy" */
  health?: string;
}

/**
 * The STATUS column of `docker ps` (moby's State.String): "Created", "Up 5 seconds",
 * "Up Less than a second", "Up 2 hours (Paused)", "Up 3 minutes (healthy)",
 * "Restarting (1) 2 seconds ago", "Exited (3) 2 minutes ago", "Removal In Progress", "Dead".
 * Flags missing from `state` are derived from `status`.
 */
export function containerStatus(state: ContainerStateInfo, now: number = Date.now()): string {
  const status = state.status ?? '';
  const paused = state.paused ?? status === 'paused';
  const restarting = state.restarting ?? status === 'restarting';
  const running = state.running ?? (status === 'running' || paused || restarting);
  const started = toMillis(state.startedAt);
  const finished = toMillis(state.finishedAt);
  const exitCode = state.exitCode ?? 0;
  if (running) {
    const out = 'Up ' + humanDuration(now - (started ?? now));
    if (paused) return out + ' (Paused)';
    if (restarting) return `Restarting (${exitCode}) ${humanDuration(now - (finished ?? now))} ago`;
    const health = state.health;
    if (health && health !== 'none') return `${out} (${health === 'starting' ? 'health: starting' : health})`;
    return out;
  }
  if (state.removalInProgress ?? status === 'removing') return 'Removal In Progress';
  if (state.dead ?? status === 'dead') return 'Dead';
  if (started === undefined) return 'Created';
  if (finished === undefined) return '';
  return `Exited (${exitCode}) ${humanDuration(now - finished)} ago`;
}
