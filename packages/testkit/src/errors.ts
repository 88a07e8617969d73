/** A server the test asked for could not be started here; the message names every way that was tried. */
export class TestkitUnavailableError extends Error {
  override readonly name = 'TestkitUnavailableError';
  readonly attempts: readonly string[];

  constructor(what: string, attempts: readonly string[]) {
    super(`${what} could not be started. Tried:\n${attempts.map((a, i) => `  ${i + 1}. ${a}`).join('\n')}`);
    this.attempts = attempts;
  }
}

/** A fault operation (kill, pause, restart) was called on a server this process does not own. */
export class UncontrolledServerError extends Error {
  override readonly name = 'UncontrolledServerError';

  constructor(operation: string, url: string) {
    super(
      `${operation}() needs a server process started by testkit, but ${url} came from the environment ` +
        'or a shared server; ask for a private one (e.g. { private: true }).',
    );
  }
}
