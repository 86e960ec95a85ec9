/** berthd: the daemon's entry point. */
import { parseDaemonArgs, usage, UsageError } from './config';

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseDaemonArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`berthd: ${e.message}\nSee 'berthd --help'.\n`);
      process.exit(125);
    }
    throw e;
  }
  if (parsed === 'help') {
    process.stdout.write(usage());
    return;
  }
  if (parsed === 'version') {
    const { BERTH_VERSION } = await import('../api/routes/system');
    process.stdout.write(`berthd version ${BERTH_VERSION}\n`);
    return;
  }
  try {
    // A dangerous or broken listener configuration (plain TCP, missing certificates) fails here,
    // before the daemon touches any state.
    const { planListeners } = await import('../api/listen');
    planListeners(parsed.config);
  } catch (e) {
    process.stderr.write(`berthd: ${(e as Error).message}\n`);
    process.exit(1);
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('berthd: berthd needs to be started with root privileges\n');
    process.exit(1);
  }
  const { Daemon } = await import('./daemon');
  const d = new Daemon(parsed.config);
  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    d.log('info', `received ${sig}`);
    d.shutdown().then(
      () => process.exit(0),
      (e) => {
        process.stderr.write(`berthd: shutdown: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGPIPE', () => undefined);
  process.on('uncaughtException', (e) => d.log('error', `uncaught: ${e.stack ?? e.message}`));
  process.on('unhandledRejection', (e) => d.log('error', `unhandled rejection: ${(e as Error)?.stack ?? String(e)}`));
  try {
    await d.start();
  } catch (e) {
    process.stderr.write(`berthd: ${(e as Error).message}\n`);
    process.exit(1);
  }
  d.log('info', 'berthd has completed initialization');
}

void main();
