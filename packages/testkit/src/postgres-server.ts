import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';
import { postgresBinDir, postgresRunUser } from './postgres-binaries.js';
import { exited, signal, signalTree, spawnReaped } from './reaper.js';
import { waitUntil } from './wait.js';

export interface PostgresServerOptions {
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string | number>;
  /** Allow streaming replication connections (sets wal_level and pg_hba). */
  replication?: boolean;
}

function uidOf(user: string): { uid: number; gid: number } {
  const uid = Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim());
  return { uid, gid };
}

/** A private PostgreSQL cluster (initdb in a temp dir) owned by this process: killable, pausable, restartable. */
export class PostgresServer {
  readonly host = '127.0.0.1';
  #child: ChildProcess | undefined;
  #paused = false;

  private constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly bin: string,
    private readonly user: string | undefined,
    private readonly options: PostgresServerOptions,
  ) {}

  /** Creates a fresh data directory with initdb and starts it. */
  static async init(options: PostgresServerOptions = {}): Promise<PostgresServer> {
    const { bin, user, dir } = PostgresServer.#prepareDir();
    const initdb = PostgresServer.#runAs(user, join(bin, 'initdb'), [
      '-D',
      dir,
      '-U',
      'postgres',
      '--auth=trust',
      '--no-sync',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
    if (initdb.status !== 0) throw new Error(`initdb failed: ${initdb.stderr}${initdb.stdout}`);
    if (options.replication) {
      await appendFile(join(dir, 'pg_hba.conf'), '\nhost replication all 127.0.0.1/32 trust\n');
    }
    const server = new PostgresServer(await freePort(), dir, bin, user, options);
    await server.#spawn();
    return server;
  }

  /** Creates a streaming standby of `primary` with pg_basebackup and starts it. */
  static async standbyOf(primary: PostgresServer): Promise<PostgresServer> {
    const { bin, user, dir } = PostgresServer.#prepareDir();
    const backup = PostgresServer.#runAs(user, join(bin, 'pg_basebackup'), [
      '-D',
      dir,
      '-h',
      '127.0.0.1',
      '-p',
      String(primary.port),
      '-U',
      'postgres',
      '-R',
      '-X',
      'stream',
      '--no-sync',
    ]);
    if (backup.status !== 0) throw new Error(`pg_basebackup failed: ${backup.stderr}${backup.stdout}`);
    const server = new PostgresServer(await freePort(), dir, bin, user, primary.options);
    await server.#spawn();
    return server;
  }

  static #prepareDir(): { bin: string; user: string | undefined; dir: string } {
    const bin = postgresBinDir();
    if (!bin) throw new Error('PostgreSQL server binaries (initdb, postgres) not found');
    const user = postgresRunUser();
    const dir = mkdtempSync(join(tmpdir(), 'cxkit-pg-'));
    chmodSync(dir, 0o700);
    if (user) {
      const { uid, gid } = uidOf(user);
      chownSync(dir, uid, gid);
    }
    return { bin, user, dir };
  }

  static #runAs(user: string | undefined, command: string, args: string[]) {
    const argv = user ? ['-u', user, '--', command, ...args] : args;
    return spawnSync(user ? 'runuser' : command, argv, { encoding: 'utf8', cwd: tmpdir() });
  }

  get url(): string {
    return `postgres://postgres@${this.host}:${this.port}/postgres`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async #spawn(): Promise<void> {
    const settings: Record<string, string | number> = {
      listen_addresses: '127.0.0.1',
      port: this.port,
      unix_socket_directories: this.dataDir,
      // fsync off only risks data on an OS crash; a SIGKILLed server keeps every commit.
      fsync: 'off',
      full_page_writes: 'off',
      max_connections: 200,
      ...(this.options.replication ? { wal_level: 'replica', max_wal_senders: 5, hot_standby: 'on' } : {}),
      ...this.options.settings,
    };
    const args = ['-D', this.dataDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const child = spawnReaped(join(this.bin, 'postgres'), args, { user: this.user, cwd: tmpdir() });
    let log = '';
    child.stderr?.on('data', (d) => {
      log = (log + d).slice(-4000);
    });
    this.#child = child;
    this.#paused = false;
    await waitUntil(
      `postgres on port ${this.port}`,
      async () => {
        if (!this.running) throw new Error(`postgres exited during start: ${log}`);
        const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 1000 });
        try {
          await client.connect();
          await client.query('SELECT 1');
          return true;
        } finally {
          await client.end().catch(() => {});
        }
      },
      30_000,
      100,
    );
  }

  /** Fast shutdown (SIGINT): in-flight transactions abort, committed data stays. */
  async stop(): Promise<void> {
    if (!this.#child || !this.running) return;
    signalTree(this.#child, 'SIGCONT');
    signal(this.#child, 'SIGINT');
    await exited(this.#child);
  }

  /** SIGKILL of the postmaster: crash recovery runs on the next start. */
  async kill(): Promise<void> {
    if (!this.#child || !this.running) return;
    signalTree(this.#child, 'SIGKILL');
    await exited(this.#child);
  }

  /** SIGSTOP of the postmaster: new connections hang (existing backends keep running). */
  async pause(): Promise<void> {
    if (this.#child && this.running) signalTree(this.#child, 'SIGSTOP');
    this.#paused = true;
  }

  async resume(): Promise<void> {
    if (this.#child && this.running) signalTree(this.#child, 'SIGCONT');
    this.#paused = false;
  }

  /** Stops (if running) and starts again on the same port with the same data. */
  async restart(): Promise<void> {
    if (this.running) await this.stop();
    await this.#spawn();
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Tail of the server's data-dir log, for failure messages. */
  log(): string {
    try {
      return readFileSync(join(this.dataDir, 'log'), 'utf8');
    } catch {
      return '';
    }
  }

  async destroy(): Promise<void> {
    if (this.#child && this.running) {
      signalTree(this.#child, 'SIGCONT');
      signalTree(this.#child, 'SIGKILL');
      await exited(this.#child);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
