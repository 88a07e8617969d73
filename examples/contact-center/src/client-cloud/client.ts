/** Thrown for any non-2xx answer or a timeout; BullMQ retries the job with backoff. */
export class ClientCloudError extends Error {
  readonly code = 'CLIENT_CLOUD_FAILED';
  constructor(
    message: string,
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ClientCloudError';
  }
}

/** The calls the worker pool makes to the client's cloud; each has a timeout and an idempotency id. */
export class ClientCloudClient {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async provisionAgent(
    operationId: string,
    agentId: string,
  ): Promise<{ remoteId: string; replayed: boolean }> {
    const body = await this.#call('PUT', `/v1/agents/${encodeURIComponent(operationId)}`, {
      agent_id: agentId,
    });
    return body as { remoteId: string; replayed: boolean };
  }

  async createNote(idempotencyKey: string, contactId: string, notes: string): Promise<{ id: string }> {
    const body = await this.#call('POST', '/v1/crm/notes', { contact_id: contactId, notes }, idempotencyKey);
    return body as { id: string };
  }

  async #call(method: string, path: string, payload: unknown, idempotencyKey?: string): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: {
          'content-type': 'application/json',
          ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
        },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new ClientCloudError(`${method} ${path}: ${(err as Error).message}`, undefined, { cause: err });
    }
    if (!res.ok) throw new ClientCloudError(`${method} ${path}: HTTP ${res.status}`, res.status);
    return res.json();
  }
}
