import { loadConfig } from '../config.js';
import { createController } from './controller.js';

/** `npm start`: API, shadow worker and periodic sweep in one process. */
async function main(): Promise<void> {
  const config = loadConfig();
  const controller = await createController({ config });
  const { logger } = controller;
  await controller.start();
  const server = await controller.listen(config.PORT);
  const address = server.address();
  logger.info(
    {
      port: typeof address === 'object' && address ? address.port : config.PORT,
      database:
        controller.database.kind === 'postgres' ? 'postgresql' : `pglite in ${config.SHADOWGATE_DATA_DIR}`,
      queue: controller.queue.kind,
      flags: config.UNLEASH_URL ? 'unleash' : 'built-in',
    },
    'shadowgate controller listening',
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    await controller.stop().catch((error: unknown) => logger.error({ err: error }, 'stop failed'));
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(`shadowgate: ${(error as Error).message}`);
  process.exit(1);
});
