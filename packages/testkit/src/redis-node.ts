import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UncontrolledServerError } from './errors.js';
import { freePort } from './ports.js';
import { exited, signal, spawnReaped } from './reaper.js';
import { parseInfo, redisCommand } from './resp.js';
import { waitUntil } from './wait.js';

/** Marker in every testkit redis-server's process title, so a leak check can find them. */
export const PROCESS_MARKER = 'cxkit-testkit';

export interface RedisNodeOptions {
  /** Fixed port; a free one by default. */
  port?: number;
  /** `none` (default) restarts empty, like the field's cache nodes; `aof`/`aof-always` keep data across restarts. */
  persistence?: 'none' | 'aof' | 'aof-always';
  /** Start as a replica of this master. */
  replicaOf?: { host: string; port: number };
  /** Start with `cluster-enabled yes`. */
  cluster?: boolean;
  /** Extra `--name value` arguments. */
  args?: string[];
}

/** A real redis-server process on loopback that tests may stop, kill, pause, resume and restart. */
export class RedisNode {
  readonly host = '127.0.0.1';
  readonly controlled: boolean;
  #child: ChildProcess | undefined;
  #paused = false;
  #dir = '';

  private constructor(
    readonly port: number,
    private readonly options: RedisNodeOptions,
    controlled: boolean,
  ) {
    this.controlled = controlled;
  }

  /** Starts a new redis-server on a free port (or `options.port`) and waits until it answers PING. */
  static async start(options: RedisNodeOptions = {}): Promise<RedisNode> {
    for (let attempt = 1; ; attempt++) {
      const node = new RedisNode(options.port ?? (await freePort()), options, true);
      node.#dir = await mkdtemp(join(tmpdir(), 'cxkit-redis-'));
      try {
        await node.#spawn();
        return node;
      } catch (err) {
        await node.destroy();
        // Another process (a parallel test worker) can take a free port between the check and the bind.
        if (options.port !== undefined || attempt >= 3) throw err;
      }
    }
  }

  /** Wraps a server this process does not own (from `REDIS_URL`/`REDIS_NODES`): fault operations throw. */
  static external(url: string): RedisNode {
    const parsed = new URL(url);
    const node = new RedisNode(Number(parsed.port || 6379), {}, false);
    Object.defineProperty(node, 'host', { value: parsed.hostname });
    return node;
  }

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Directory holding this node's data and log. */
  get dir(): string {
    return this.#dir;
  }

  /** Sends one command through a throwaway connection (for probes and setup, not for load). */
  command(...args: string[]): Promise<string> {
    return redisCommand(this.port, args, 2000, this.host);
  }

  async #spawn(): Promise<void> {
    const o = this.options;
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.#dir,
      '--daemonize',
      'no',
      '--protected-mode',
      'no',
      '--logfile',
      'redis.log',
      '--save',
      '',
      '--appendonly',
      o.persistence && o.persistence !== 'none' ? 'yes' : 'no',
      '--proc-title-template',
      `{title} {listen-addr} {server-mode} ${PROCESS_MARKER}`,
    ];
    if (o.persistence === 'aof-always') args.push('--appendfsync', 'always');
    if (o.replicaOf) args.push('--replicaof', o.replicaOf.host, String(o.replicaOf.port));
    if (o.cluster) {
      args.push(
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        '1500',
      );
    }
    if (o.args) args.push(...o.args);
    const child = spawnReaped('redis-server', args);
    this.#child = child;
    this.#paused = false;
    let early: Error | undefined;
    child.once('error', (err) => {
      early = err;
    });
    child.once('exit', (code, sig) => {
      early ??= new Error(
        `redis-server on port ${this.port} exited during start (code ${code}, signal ${sig})`,
      );
    });
    try {
      // Stops polling at once when the start has failed for good (`early`).
      await waitUntil(`redis-server on port ${this.port}`, async () => {
        if (early) return true;
        if ((await redisCommand(this.port, ['PING'], 500)) !== 'PONG') return false;
        // The answer may come from another process's server on this port (ours then fails to bind).
        const pid = parseInfo(await redisCommand(this.port, ['INFO', 'server'], 500)).process_id;
        if (Number(pid) !== child.pid)
          early = new Error(`port ${this.port} is served by another process (pid ${pid})`);
        return true;
      });
      if (early) throw early;
    } catch (err) {
      const log = await readFile(join(this.#dir, 'redis.log'), 'utf8').catch(() => '');
      throw new Error(`${(err as Error).message}\n${log.split('\n').slice(-10).join('\n')}`);
    }
  }

  #control(operation: string): ChildProcess | undefined {
    if (!this.controlled) throw new UncontrolledServerError(operation, this.url);
    return this.#child;
  }

  /** SIGTERM and wait for exit (data saved per its persistence config). */
  async stop(): Promise<void> {
    const child = this.#control('stop');
    if (!child || !this.running) return;
    signal(child, 'SIGCONT');
    signal(child, 'SIGTERM');
    await exited(child);
    this.#paused = false;
  }

  /** SIGKILL: the node dies with no chance to save or close connections. */
  async kill(): Promise<void> {
    const child = this.#control('kill');
    if (!child || !this.running) return;
    signal(child, 'SIGKILL');
    await exited(child);
    this.#paused = false;
  }

  /** SIGSTOP: the process keeps its sockets but answers nothing, as a partitioned node looks to clients. */
  async pause(): Promise<void> {
    const child = this.#control('pause');
    if (child && this.running) signal(child, 'SIGSTOP');
    this.#paused = true;
  }

  /** SIGCONT: the node answers again, with everything it held. */
  async resume(): Promise<void> {
    const child = this.#control('resume');
    if (child && this.running) signal(child, 'SIGCONT');
    this.#paused = false;
  }

  /** Starts the node again on the same port; with `persistence: 'none'` it comes back empty. */
  async restart(): Promise<void> {
    this.#control('restart');
    if (this.running) await this.stop();
    await this.#spawn();
  }

  /** Stops the node and deletes its data directory. */
  async destroy(): Promise<void> {
    if (!this.controlled) return;
    await this.kill();
    await rm(this.#dir, { recursive: true, force: true });
  }
}
