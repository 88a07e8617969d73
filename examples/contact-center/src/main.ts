import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { createRegionContext } from './services/create-context.js';

/**
 * One region's middleware process. Kubernetes runs it as a StatefulSet (k8s/); the demo starts two of
 * them. On SIGTERM it drains: readiness fails at once, the load balancer stops sending traffic, then the
 * listener closes after SHUTDOWN_DRAIN_MS, held locks are released and connections close.
 */
const config = loadConfig();
const logger = pino({ level: config.LOG_LEVEL, base: { region: config.REGION } });
const resources = await createRegionContext(config, logger);
const app = await buildApp(resources.ctx, logger);
const address = await app.listen({ host: config.HOST, port: config.PORT });
// One machine-readable line so supervisors (the demo, tests) learn the port.
console.log(JSON.stringify({ msg: 'region listening', region: config.REGION, address }));

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'draining');
  resources.ctx.health.drain(`draining: ${signal}`);
  await sleep(config.SHUTDOWN_DRAIN_MS);
  await app.close();
  await resources.close();
  process.exit(0);
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
