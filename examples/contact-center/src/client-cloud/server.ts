import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ClientCloudOptions {
  /** Base latency of every call, the "slow downstream". */
  latencyMs: number;
  /** Extra random latency in [0, jitterMs). */
  jitterMs?: number;
  port?: number;
  /** Most records kept per kind; past it the server answers 507 (it is a fake, but not an unbounded one). */
  maxRecords?: number;
}

export interface ClientCloudStats {
  agentsCreated: number;
  agentReplays: number;
  /** Agents created under two different operation ids: the "provisioned twice" failure. */
  duplicateAgents: number;
  notesCreated: number;
  noteReplays: number;
  inFlight: number;
  maxInFlight: number;
  latencyMs: number;
}

/**
 * A deliberately slow fake of the client's cloud (CRM and workforce/agent admin APIs). Every write is
 * idempotent by its operation id or Idempotency-Key, like the real APIs this stands in for, and the server
 * counts creations and replays so the demo can prove nothing happened twice.
 */
export class ClientCloud {
  readonly #server: Server;
  readonly #agentsByOperation = new Map<string, { agentId: string; remoteId: string }>();
  readonly #operationByAgent = new Map<string, string>();
  readonly #notes = new Map<string, string>();
  readonly #stats: ClientCloudStats;
  readonly #options: Required<ClientCloudOptions>;

  private constructor(options: ClientCloudOptions) {
    this.#options = { jitterMs: 0, port: 0, maxRecords: 1_000_000, ...options };
    this.#stats = {
      agentsCreated: 0,
      agentReplays: 0,
      duplicateAgents: 0,
      notesCreated: 0,
      noteReplays: 0,
      inFlight: 0,
      maxInFlight: 0,
      latencyMs: options.latencyMs,
    };
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: Error) => send(res, 500, { error: err.message }));
    });
  }

  static async start(options: ClientCloudOptions): Promise<ClientCloud> {
    const cloud = new ClientCloud(options);
    cloud.#server.listen(cloud.#options.port, '127.0.0.1');
    await once(cloud.#server, 'listening');
    return cloud;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  stats(): ClientCloudStats {
    return { ...this.#stats };
  }

  setLatency(ms: number): void {
    this.#options.latencyMs = ms;
    this.#stats.latencyMs = ms;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<true> {
    const url = new URL(req.url ?? '/', 'http://cloud');
    if (req.method === 'GET' && url.pathname.startsWith('/ping/')) return send(res, 200, { ok: true });
    if (req.method === 'GET' && url.pathname === '/v1/stats') return send(res, 200, this.stats());
    if (req.method === 'GET' && url.pathname === '/v1/agents') {
      const prefix = url.searchParams.get('operation_prefix') ?? '';
      const operations = [...this.#agentsByOperation.keys()].filter((k) => k.startsWith(prefix));
      return send(res, 200, { operations });
    }
    const body = await readJson(req);
    this.#stats.inFlight++;
    this.#stats.maxInFlight = Math.max(this.#stats.maxInFlight, this.#stats.inFlight);
    try {
      await sleep(this.#options.latencyMs + Math.random() * this.#options.jitterMs);
      const agent = /^\/v1\/agents\/([A-Za-z0-9_.-]{1,200})$/.exec(url.pathname);
      if (req.method === 'PUT' && agent) return this.#provision(res, agent[1]!, body);
      if (req.method === 'POST' && url.pathname === '/v1/crm/notes') return this.#note(req, res);
      return send(res, 404, { error: 'not found' });
    } finally {
      this.#stats.inFlight--;
    }
  }

  #provision(res: ServerResponse, operationId: string, body: unknown): true {
    const agentId = (body as { agent_id?: unknown } | undefined)?.agent_id;
    if (typeof agentId !== 'string') return send(res, 400, { error: 'agent_id required' });
    const existing = this.#agentsByOperation.get(operationId);
    if (existing) {
      this.#stats.agentReplays++;
      return send(res, 200, { ...existing, replayed: true });
    }
    if (this.#agentsByOperation.size >= this.#options.maxRecords) return send(res, 507, { error: 'full' });
    if (this.#operationByAgent.has(agentId)) this.#stats.duplicateAgents++;
    const record = { agentId, remoteId: `usr-${this.#agentsByOperation.size + 1}` };
    this.#agentsByOperation.set(operationId, record);
    this.#operationByAgent.set(agentId, operationId);
    this.#stats.agentsCreated++;
    return send(res, 201, { ...record, replayed: false });
  }

  #note(req: IncomingMessage, res: ServerResponse): true {
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key.length === 0)
      return send(res, 400, { error: 'Idempotency-Key required' });
    const existing = this.#notes.get(key);
    if (existing) {
      this.#stats.noteReplays++;
      return send(res, 200, { id: existing, replayed: true });
    }
    if (this.#notes.size >= this.#options.maxRecords) return send(res, 507, { error: 'full' });
    const id = `note-${this.#notes.size + 1}`;
    this.#notes.set(key, id);
    this.#stats.notesCreated++;
    return send(res, 201, { id, replayed: false });
  }
}

/** Writes a JSON answer; returns `true` so handlers can `return send(...)`. */
function send(res: ServerResponse, status: number, body: unknown): true {
  if (!res.headersSent)
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  return true;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('body too large');
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}
