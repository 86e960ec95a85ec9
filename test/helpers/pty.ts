/**
 * A real pseudo-terminal for CLI tests, driven through /usr/bin/python3's os.openpty: the command
 * runs as a session leader with the pty's slave as its controlling terminal (so resizes send it
 * SIGWINCH, as a terminal emulator would), while the test writes keys, resizes the terminal and
 * reads the slave's termios settings (to check that the CLI restored them).
 */
import { spawn, type ChildProcess } from 'node:child_process';

export const PYTHON = '/usr/bin/python3';

const DRIVER = String.raw`
import base64, fcntl, json, os, select, signal, struct, subprocess, sys, termios
rows, cols = int(sys.argv[1]), int(sys.argv[2])
env = json.loads(sys.argv[3])
cmd = sys.argv[4:]
m, s = os.openpty()
def winsize(r, c):
    fcntl.ioctl(m, termios.TIOCSWINSZ, struct.pack('HHHH', r, c, 0, 0))
winsize(rows, cols)
def pre():
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
p = subprocess.Popen(cmd, stdin=s, stdout=s, stderr=s, preexec_fn=pre, close_fds=True, env=dict(os.environ, **env))
out = sys.stdout
def send(o):
    out.write(json.dumps(o) + '\n'); out.flush()
def attrs():
    a = termios.tcgetattr(s)
    return [a[0], a[1], a[2], a[3], a[4], a[5], [x if isinstance(x, int) else ord(x) for x in a[6]]]
send({'started': attrs()})
inbuf = b''
stdin_open = True
while True:
    fds = [m] + ([sys.stdin.fileno()] if stdin_open else [])
    r, _, _ = select.select(fds, [], [], 0.05)
    if m in r:
        try:
            d = os.read(m, 65536)
        except OSError:
            d = b''
        if d:
            send({'out': base64.b64encode(d).decode()})
    if sys.stdin.fileno() in r:
        d = os.read(sys.stdin.fileno(), 65536)
        if not d:
            stdin_open = False
        inbuf += d
        while b'\n' in inbuf:
            line, inbuf = inbuf.split(b'\n', 1)
            c = json.loads(line)
            if 'w' in c:
                os.write(m, c['w'].encode())
            if 'resize' in c:
                winsize(*c['resize'])
                # The kernel signals the foreground process group; the CLI leads it.
                os.kill(p.pid, signal.SIGWINCH)
            if 'attrs' in c:
                send({'attrs': attrs()})
    if not r and p.poll() is not None:
        send({'attrs': attrs()})
        send({'exit': p.returncode})
        break
`;

export class Pty {
  private readonly proc: ChildProcess;
  output = '';
  private buf = '';
  private waiters: (() => void)[] = [];
  private attrsReplies: ((a: unknown) => void)[] = [];
  initialAttrs?: unknown;
  finalAttrs?: unknown;
  exitCode?: number;
  readonly exited: Promise<number>;

  constructor(cmd: string[], opts: { rows?: number; cols?: number; env?: Record<string, string> } = {}) {
    this.proc = spawn(PYTHON, ['-c', DRIVER, String(opts.rows ?? 24), String(opts.cols ?? 80), JSON.stringify(opts.env ?? {}), ...cmd], { stdio: ['pipe', 'pipe', 'inherit'] });
    let resolveExit!: (n: number) => void;
    this.exited = new Promise((r) => (resolveExit = r));
    this.proc.stdout!.on('data', (d: Buffer) => {
      this.buf += d.toString();
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(this.buf.slice(0, nl)) as { out?: string; attrs?: unknown; started?: unknown; exit?: number };
        this.buf = this.buf.slice(nl + 1);
        if (msg.started) this.initialAttrs = msg.started;
        if (msg.out) this.output += Buffer.from(msg.out, 'base64').toString('latin1');
        if (msg.attrs) {
          const w = this.attrsReplies.shift();
          if (w) w(msg.attrs);
          else this.finalAttrs = msg.attrs;
        }
        if (msg.exit !== undefined) {
          this.exitCode = msg.exit;
          resolveExit(msg.exit);
        }
        for (const w of this.waiters.splice(0)) w();
      }
    });
    this.proc.on('close', () => {
      if (this.exitCode === undefined) resolveExit(-1);
    });
  }

  private send(o: unknown): void {
    this.proc.stdin!.write(JSON.stringify(o) + '\n');
  }

  /** Types text into the terminal. */
  write(text: string): void {
    this.send({ w: text });
  }

  /** Resizes the terminal (TIOCSWINSZ on the master, SIGWINCH to the command). */
  resize(rows: number, cols: number): void {
    this.send({ resize: [rows, cols] });
  }

  /** Waits until the output (from `from` on) matches; returns the match. */
  async expect(re: RegExp, timeoutMs = 30_000, from = 0): Promise<RegExpExecArray> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.output.slice(from));
      if (m) return m;
      if (this.exitCode !== undefined || Date.now() > end) {
        throw new Error(`pty: ${re} not seen (exit ${this.exitCode}); output so far:\n${JSON.stringify(this.output)}`);
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /**
   * Waits for a shell prompt that is fully drawn: the output ends with `# ` (busybox may add an
   * erase-line) and nothing more arrives for a moment. busybox asks the terminal for the cursor
   * position (ESC[6n) before it draws the prompt and swallows input that comes meanwhile.
   */
  async prompt(timeoutMs = 30_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const len = this.output.length;
      if (/# (\x1b\[(6n|J))*$/.test(this.output)) {
        await new Promise((r) => setTimeout(r, 300));
        if (this.output.length === len) return;
        continue;
      }
      if (this.exitCode !== undefined || Date.now() > end) {
        throw new Error(`pty: no prompt (exit ${this.exitCode}); output so far:\n${JSON.stringify(this.output)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** At a prompt, types a command line and waits for the output that follows it to match. */
  async run(line: string, re: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    await this.prompt(timeoutMs);
    const from = this.output.length;
    this.write(`${line}\r`);
    return this.expect(re, timeoutMs, from);
  }

  /** Waits for the command to end; returns its exit status. */
  async wait(timeoutMs = 60_000): Promise<number> {
    const t = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }

  kill(): void {
    this.proc.kill('SIGKILL');
  }
}
