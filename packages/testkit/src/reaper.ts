import { type ChildProcess, type SpawnOptions, spawn, spawnSync } from 'node:child_process';

const live = new Set<ChildProcess>();
let hooked = false;

const hasSetpriv = (() => {
  try {
    return spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status === 0;
  } catch {
    return false;
  }
})();

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // Synchronous last resort on a normal or failing exit; a SIGKILLed parent is covered by PDEATHSIG.
  process.on('exit', () => {
    for (const child of live) {
      if (child.pid === undefined || child.exitCode !== null) continue;
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

export interface ReapedSpawnOptions extends SpawnOptions {
  /** Run as this system user (e.g. `postgres`, which refuses to run as root). */
  user?: string;
}

/**
 * Spawns a server process that cannot outlive this one: `setpriv --pdeathsig SIGKILL` makes the kernel
 * kill it when this process dies for any reason, and an exit hook kills it on a normal exit.
 */
export function spawnReaped(command: string, args: string[], options: ReapedSpawnOptions = {}): ChildProcess {
  hookExit();
  const { user, ...rest } = options;
  let cmd = command;
  let argv = args;
  if (hasSetpriv) {
    const identity = user ? [`--reuid=${user}`, `--regid=${user}`, '--init-groups'] : [];
    cmd = 'setpriv';
    argv = [...identity, '--pdeathsig', 'SIGKILL', '--', command, ...args];
  } else if (user) {
    cmd = 'runuser';
    argv = ['-u', user, '--', command, ...args];
  }
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...rest });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Resolves when the child has exited (immediately if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Sends a signal; a process that is already gone is not an error. */
export function signal(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Signals the child and its direct children. PostgreSQL backends call setsid(), so a process-group
 * signal would miss them; pausing or killing "the server" has to reach every backend.
 */
export function signalTree(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const listed = spawnSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)], { encoding: 'utf8' });
  const pids = [
    child.pid,
    ...(listed.stdout ?? '')
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => n > 0),
  ];
  // Children first on SIGSTOP/SIGKILL so none is left running while the parent reacts.
  for (const pid of sig === 'SIGCONT' ? pids : pids.reverse()) {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}
