import type { PGlite } from '@electric-sql/pglite';

interface Batch {
  handlerId: number;
  bytes: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (err: unknown) => void;
}

// Messages after which a client waits for the server: Sync, simple Query, Flush, Terminate, end of COPY.
const BATCH_END = new Set(['S', 'Q', 'H', 'X', 'c', 'f'].map((c) => c.charCodeAt(0)));
// Untyped start-up packets: protocol 3.0, SSLRequest, CancelRequest, GSSENCRequest.
const STARTUP_CODES = new Set([196608, 80877103, 80877102, 80877104]);

function endsBatch(message: Uint8Array): boolean {
  if (message.length >= 8) {
    const code = new DataView(message.buffer, message.byteOffset, message.byteLength).getInt32(4);
    const length = new DataView(message.buffer, message.byteOffset, message.byteLength).getInt32(0);
    if (length === message.length && STARTUP_CODES.has(code)) return true;
  }
  return BATCH_END.has(message[0] ?? 0);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Replaces pglite-socket's per-message queue. PGlite is one backend session shared by every socket, so a
 * client's extended-protocol round (Parse, Bind, Execute ... Sync) must run without another client's
 * messages in between, or both share one implicit transaction and one output stream: we saw updates
 * reported with the wrong row count and lost under concurrent connections. Here each round runs whole,
 * and while a round leaves an explicit transaction open, only that client's rounds run.
 */
export class PgliteSessionQueue {
  readonly #partial = new Map<number, Uint8Array[]>();
  readonly #waiting: Batch[] = [];
  #owner: number | null = null;
  #running = false;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    const parts = this.#partial.get(handlerId) ?? [];
    parts.push(message);
    if (!endsBatch(message)) {
      this.#partial.set(handlerId, parts);
      return Promise.resolve(0);
    }
    this.#partial.delete(handlerId);
    return new Promise<number>((resolve, reject) => {
      this.#waiting.push({ handlerId, bytes: concat(parts), onData, resolve, reject });
      void this.#pump();
    });
  }

  getQueueLength(): number {
    return this.#waiting.length;
  }

  clearQueueForHandler(handlerId: number): void {
    this.#partial.delete(handlerId);
    for (let i = this.#waiting.length - 1; i >= 0; i--) {
      const batch = this.#waiting[i]!;
      if (batch.handlerId !== handlerId) continue;
      this.#waiting.splice(i, 1);
      batch.reject(new Error('client disconnected'));
    }
  }

  /** A client that disconnects inside its transaction: roll it back so the session is free again. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.#owner !== handlerId) return;
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    this.#owner = null;
    void this.#pump();
  }

  async #pump(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (;;) {
        const index = this.#owner === null ? 0 : this.#waiting.findIndex((b) => b.handlerId === this.#owner);
        if (index < 0 || this.#waiting.length === 0) return;
        const [batch] = this.#waiting.splice(index, 1) as [Batch];
        try {
          let bytes = 0;
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(batch.bytes, {
              onRawData: (data) => {
                bytes += data.length;
                batch.onData(data);
              },
            }),
          );
          this.#owner = this.db.isInTransaction() ? batch.handlerId : null;
          batch.resolve(bytes);
        } catch (err) {
          batch.reject(err);
        }
      }
    } finally {
      this.#running = false;
    }
  }
}
