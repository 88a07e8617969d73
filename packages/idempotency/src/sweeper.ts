import { type Queryable, runStatement } from './db.js';
import { defaults } from './defaults.js';
import { ConfigError } from './errors.js';
import type { Logger } from './options.js';

export interface SweepOptions {
  /** Rows deleted per statement. @default 1_000 */
  batchSize?: number;
  /** Statements per sweep; the rest waits for the next sweep. @default 100 */
  maxBatches?: number;
}

export interface SweepResult {
  deleted: number;
  batches: number;
}

/** Deletes expired rows batch by batch until a batch comes back short or `maxBatches` is reached. */
export async function sweep(
  db: Queryable,
  statement: { name: string; text: string },
  prepared: boolean,
  options: SweepOptions,
): Promise<SweepResult> {
  const batchSize = options.batchSize ?? defaults.sweepBatchSize;
  const maxBatches = options.maxBatches ?? defaults.sweepMaxBatches;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new ConfigError('batchSize', 'expected a positive integer');
  if (!Number.isInteger(maxBatches) || maxBatches < 1)
    throw new ConfigError('maxBatches', 'expected a positive integer');
  let deleted = 0;
  let batches = 0;
  while (batches < maxBatches) {
    const n = Number((await runStatement(db, statement, [batchSize], prepared)).rows[0]?.deleted ?? 0);
    batches++;
    deleted += n;
    if (n < batchSize) break;
  }
  return { deleted, batches };
}

/** A background sweep loop; a sweep that is still running when the next tick comes is not doubled. */
export class Sweeper {
  readonly #timer: NodeJS.Timeout;
  #running = false;

  constructor(
    intervalMs: number,
    run: () => Promise<unknown>,
    logger: Logger | undefined,
    private readonly onStop: () => void,
  ) {
    this.#timer = setInterval(async () => {
      if (this.#running) return;
      this.#running = true;
      try {
        await run();
      } catch (err) {
        logger?.warn({ err }, 'idempotency sweep failed; retrying at the next interval');
      } finally {
        this.#running = false;
      }
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.onStop();
  }
}
