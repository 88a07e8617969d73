import type { PipelineLike, RedisClientLike } from './client.js';
import type { Script } from './scripts.js';

type Arg = string | number;

interface Settle {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** One key's part of a keyed script call (see `TickPipeline.keyed`). */
interface KeyedItem extends Settle {
  key: string;
  args: Arg[];
}

/** One command the store sends; `script` is set for an EVALSHA, which falls back to EVAL on NOSCRIPT. */
interface Call extends Settle {
  name: 'evalsha' | 'hmget' | 'hgetall' | 'del';
  args: Arg[];
  script?: Script;
  /** Set for a keyed script call: its keys, merged from consecutive calls; `args` is built at flush. */
  keyed?: KeyedItem[];
}

const noop = () => {};

/** The reply of a keyed script called for one key. */
function firstReply(replies: unknown): unknown {
  const reply = (replies as unknown[])[0];
  if (reply instanceof Error) throw reply;
  return reply;
}

/** Lays out a keyed call's keys and arguments, and hands each key its own reply or error. */
function buildKeyed(call: Call): void {
  const items = call.keyed!;
  let stride = 1;
  for (const item of items) if (item.args.length > stride) stride = item.args.length;
  const args: Arg[] = [call.script!.sha, items.length];
  for (const item of items) args.push(item.key);
  for (const item of items) {
    for (let i = 0; i < stride; i++) args.push(i < item.args.length ? item.args[i]! : '');
  }
  call.args = args;
  call.resolve = (replies) => {
    if (!Array.isArray(replies) || replies.length !== items.length) {
      call.reject(new Error(`keyed script answered ${String(replies)} for ${items.length} keys`));
      return;
    }
    const list = replies as unknown[];
    items.forEach((item, i) => {
      const reply = list[i];
      if (reply instanceof Error) item.reject(reply);
      else item.resolve(reply);
    });
  };
  call.reject = (err) => {
    for (const item of items) item.reject(err);
  };
}

/**
 * Most store calls in one flush (each key of a keyed call counts); more leave in the next one at
 * once. Small on purpose: while the server runs the first calls of a busy tick, Node prepares the next
 * ones, instead of the two taking turns over one big pipeline (at 32 concurrent saves, 8 per pipeline
 * gave about 1.7x the throughput of one pipeline of 32).
 */
const MAX_BATCH = 8;

const isNoScript = (err: unknown) => err instanceof Error && err.message.includes('NOSCRIPT');

/**
 * Sends the store's commands. A call leaves at once while the store has nothing queued or on its way;
 * calls issued meanwhile in the same tick (many flows saving at once) leave in pipelines of up to
 * MAX_BATCH: one socket write and one read for each instead of one per call, what ioredis'
 * `enableAutoPipelining` does without asking users to set it. Each call keeps its own reply and error,
 * and calls reach the server in the order they were made. Not on a Cluster (a pipeline there must stay
 * in one slot) nor on clients without `pipeline()`: those send each call at once.
 */
export class TickPipeline {
  readonly #client: RedisClientLike;
  readonly #batching: boolean;
  #queue: Call[] | undefined;
  /** Store calls in the queue, a keyed call counting once per key. */
  #size = 0;
  /** Commands and pipelines sent and not answered yet. */
  #inFlight = 0;

  constructor(client: RedisClientLike) {
    this.#client = client;
    this.#batching = typeof client.pipeline === 'function' && client.isCluster !== true;
  }

  script(script: Script, keys: string[], args: Arg[]): Promise<unknown> {
    if (!this.#batching) return script.run(this.#client, keys, args);
    return this.#enqueue('evalsha', [script.sha, keys.length, ...keys, ...args], script);
  }

  /**
   * Runs a keyed script for one key: one that takes any number of keys, the arguments of KEYS[i] at
   * ARGV[(i - 1) * s + 1 ..] with s = #ARGV / #KEYS, and answers an array of one reply per key (an
   * error reply for a key that failed alone). Consecutive keyed calls of the same script in a tick
   * leave as one call, their argument lists padded with '' to the longest; the server pays the
   * script's fixed cost once for them. Resolves with this key's reply, rejects with its error.
   */
  keyed(script: Script, key: string, args: Arg[]): Promise<unknown> {
    if (!this.#batching) return script.run(this.#client, [key], args).then(firstReply);
    if (this.#idle()) return this.#alone(script.run(this.#client, [key], args)).then(firstReply);
    return new Promise((resolve, reject) => {
      const queue = this.#open();
      const item = { key, args, resolve, reject };
      const last = queue[queue.length - 1];
      if (last?.keyed && last.script === script) last.keyed.push(item);
      else queue.push({ name: 'evalsha', args: [], script, keyed: [item], resolve: noop, reject: noop });
      this.#added();
    });
  }

  hmget(key: string, fields: string[]): Promise<(string | null)[]> {
    if (!this.#batching) return this.#client.hmget(key, ...fields);
    return this.#enqueue('hmget', [key, ...fields]) as Promise<(string | null)[]>;
  }

  hgetall(key: string): Promise<Record<string, string>> {
    if (!this.#batching) return this.#client.hgetall(key);
    return this.#enqueue('hgetall', [key]) as Promise<Record<string, string>>;
  }

  del(key: string): Promise<number> {
    if (!this.#batching) return this.#client.del(key);
    return this.#enqueue('del', [key]) as Promise<number>;
  }

  #enqueue(name: Call['name'], args: Arg[], script?: Script): Promise<unknown> {
    if (this.#idle()) return this.#alone(this.#direct({ name, args, script, resolve: noop, reject: noop }));
    return new Promise((resolve, reject) => {
      this.#open().push({ name, args, script, resolve, reject });
      this.#added();
    });
  }

  /**
   * Nothing queued in this tick and nothing awaiting a reply: a call leaves at once, without waiting
   * for the tick to end (a lone flow does not pay for batching). Calls made while others are on their
   * way are the ones worth batching: they queue and leave together.
   */
  #idle(): boolean {
    return this.#queue === undefined && this.#inFlight === 0;
  }

  #alone<T>(sent: Promise<T>): Promise<T> {
    this.#inFlight++;
    return sent.finally(() => {
      this.#inFlight--;
    });
  }

  #open(): Call[] {
    if (!this.#queue) {
      this.#queue = [];
      process.nextTick(() => this.#flush());
    }
    return this.#queue;
  }

  #added(): void {
    if (++this.#size >= MAX_BATCH) this.#flush();
  }

  #flush(): void {
    const queue = this.#queue;
    this.#queue = undefined;
    this.#size = 0;
    if (!queue || queue.length === 0) return;
    for (const call of queue) if (call.keyed) buildKeyed(call);
    if (queue.length === 1) {
      const call = queue[0]!;
      this.#alone(this.#direct(call)).then(call.resolve, call.reject);
      return;
    }
    let sent: Promise<[Error | null, unknown][] | null>;
    try {
      const p = this.#client.pipeline!() as PipelineLike & Record<Call['name'], (...a: Arg[]) => unknown>;
      for (const call of queue) p[call.name](...call.args);
      sent = this.#alone(p.exec());
    } catch (err) {
      // This runs in a nextTick callback: a synchronous throw must reach the callers, not the process.
      for (const call of queue) call.reject(err);
      return;
    }
    sent.then(
      (replies) => {
        for (let i = 0; i < queue.length; i++) {
          const call = queue[i]!;
          const [err, value] = replies?.[i] ?? [new Error('empty pipeline reply'), undefined];
          if (!err) call.resolve(value);
          else if (call.script && isNoScript(err)) this.#eval(call).then(call.resolve, call.reject);
          else call.reject(err);
        }
      },
      (err: unknown) => {
        for (const call of queue) call.reject(err);
      },
    );
  }

  #direct(call: Call): Promise<unknown> {
    const c = this.#client;
    switch (call.name) {
      case 'evalsha':
        return c.evalsha(...(call.args as [string, number, ...Arg[]])).catch((err: unknown) => {
          if (!isNoScript(err)) throw err;
          return this.#eval(call);
        });
      case 'hmget':
        return c.hmget(...(call.args as [string, ...string[]]));
      case 'hgetall':
        return c.hgetall(call.args[0] as string);
      case 'del':
        return c.del(call.args[0] as string);
    }
  }

  /** A restarted or failed-over node has an empty script cache; EVAL loads the script there again. */
  #eval(call: Call): Promise<unknown> {
    const [, ...rest] = call.args as [string, number, ...Arg[]];
    return this.#client.eval(call.script!.source, ...(rest as [number, ...Arg[]]));
  }
}
