/** A tiny JSON client for the demo and tests: bearer token, JSON in, `{ status, headers, body }` out. */
export interface ApiResponse<B = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: B;
  ms: number;
}

export async function call<B = Record<string, unknown>>(
  baseUrl: string,
  method: 'GET' | 'POST',
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ApiResponse<B>> {
  const started = performance.now();
  const res = await fetch(new URL(path, baseUrl), {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined
      ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }
      : {}),
    signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: res.status, headers: res.headers, body: body as B, ms: performance.now() - started };
}
