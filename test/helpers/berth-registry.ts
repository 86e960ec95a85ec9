/** `berth registry serve` as a child process on 127.0.0.1 and a free port, with a temporary root. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, deadline, sleep } from './daemon';
import { freePort } from './registry';

export class BerthRegistry {
  proc?: ChildProcess;
  port = 0;
  readonly dir: string;
  log = '';

  constructor(readonly name: string, readonly extraArgs: string[] = []) {
    this.dir = fs.mkdtempSync(path.join('/tmp', `berth-reg-${name}-`));
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = this.port || (await freePort());
    const main = path.join(ROOT, 'dist', 'src', 'registry', 'server', 'main.js');
    const args = ['serve', '--addr', this.host, '--root', path.join(this.dir, 'root'), ...this.extraArgs];
    this.proc = spawn(process.execPath, ['-e', `require(${JSON.stringify(main)}).registryCommand(${JSON.stringify(args)}).then((c) => process.exit(c))`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout!.on('data', (d) => (this.log += d));
    this.proc.stderr!.on('data', (d) => (this.log += d));
    const deadline = Date.now() + 10_000;
    while (!this.log.includes('listening on')) {
      if (this.proc.exitCode !== null || Date.now() > deadline) throw new Error(`berth registry did not start: ${this.log}`);
      await sleep(50);
    }
  }

  async cleanup(): Promise<void> {
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await Promise.race([exited, deadline(5000)]);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
