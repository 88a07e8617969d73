import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { spawnTs } from '@cxkit/testkit';

const entry = (file: string) => fileURLToPath(new URL(`../${file}`, import.meta.url));

/** A child process running one of the example's entry points, with its output kept for diagnostics. */
export class ServiceProcess {
  readonly output: string[] = [];
  /** Called with every output line as it arrives (the demo shows the provisioning progress bar). */
  onLine: ((line: string) => void) | undefined;
  #exited: Promise<unknown>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        this.output.push(line);
        if (this.output.length > 500) this.output.shift();
        this.onLine?.(line);
      }
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#exited = once(child, 'exit');
  }

  /**
   * Starts `src/<file>`; resolves once a stdout line satisfies `ready` (or rejects if the process dies
   * first), or as soon as it is spawned without `ready`.
   */
  static async start(
    name: string,
    file: string,
    env: Record<string, string>,
    ready?: (line: string) => boolean,
    timeoutMs = 60_000,
  ): Promise<ServiceProcess> {
    const proc = new ServiceProcess(name, spawnTs(entry(file), [], { env }));
    if (!ready) {
      await once(proc.child, 'spawn');
      return proc;
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name} did not start in ${timeoutMs} ms:\n${proc.tail()}`)),
        timeoutMs,
      );
      const onData = (chunk: Buffer) => {
        if (chunk.toString('utf8').split('\n').some(ready)) {
          clearTimeout(timer);
          proc.child.stdout?.off('data', onData);
          resolve();
        }
      };
      proc.child.stdout?.on('data', onData);
      proc.child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${proc.tail()}`));
      });
    });
    return proc;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  tail(lines = 30): string {
    return this.output.slice(-lines).join('\n');
  }

  /** SIGKILL: the crash the scenario is about (no drain, no lock release). */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.#exited;
  }

  /** SIGTERM and wait: the graceful path. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.#exited;
    clearTimeout(timer);
  }

  exited(): Promise<unknown> {
    return this.#exited;
  }
}

/** A region process; its URL is read from the "region listening" line it prints. */
export class RegionProcess {
  private constructor(
    readonly region: string,
    readonly url: string,
    readonly process: ServiceProcess,
  ) {}

  static async start(region: string, env: Record<string, string>): Promise<RegionProcess> {
    let address = '';
    const proc = await ServiceProcess.start(
      `region ${region}`,
      'main.ts',
      { ...env, REGION: region, PORT: '0', HOST: '127.0.0.1' },
      (line) => {
        if (!line.includes('"region listening"')) return false;
        address = (JSON.parse(line) as { address: string }).address;
        return true;
      },
    );
    return new RegionProcess(region, address, proc);
  }
}
