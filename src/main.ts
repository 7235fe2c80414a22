import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { isAppError } from './errors.js';

/** Composition root: read config, build the app, serve, stop gracefully on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const startedAt = Date.now();
  const config = loadConfig();
  const app = await createApp(config);
  const port = await app.start();
  const mode = `${config.backend.kind} back end, ${config.sms.kind} SMS`;
  app.logger.info(`Tuiding is ready on http://localhost:${port}/api/messages (${mode}) in ${Date.now() - startedAt} ms; web chat: http://localhost:${port}/`);
  if (config.backend.kind === 'embedded') {
    app.logger.info(`demo numbers: http://localhost:${port}/dev/subscribers · SMS codes: http://localhost:${port}/dev/sms?msisdn=<number>`);
  }
  if (config.handoff.generatedAgent) {
    // Only when AGENTS is unset (local trial): a throwaway token so the console can be tried at once.
    process.stdout.write(`agent console: http://localhost:${port}/agent  demo agent token (set AGENTS to choose your own): ${config.handoff.agents[0]!.token}\n`);
  }
  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) return;
    signalled = true;
    app.logger.info(`${signal} received: finishing turns in flight and flushing the store`);
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        app.logger.error('shutdown failed', { error: err });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  const message = isAppError(err) ? `${err.code}: ${err.message}` : String((err as Error)?.stack ?? err);
  process.stderr.write(`Tuiding could not start.\n${message}\n`);
  process.exit(1);
});
