/**
 * A small typed channel between a node's primary process and its SMTP
 * workers, over the IPC pipe that cluster.fork opens: requests (with an
 * answer or an error) and notifications, both ways. The protocol types say
 * which requests and notifications each side may send, so a message the other
 * side does not know is a type error, not a silent drop.
 *
 * `serve()` and `proxy()` build on it: the primary holds the one instance of
 * something per node (the queue runner, per-client limits, a decision
 * recorder) and workers call it through a proxy of its async methods.
 */

/** One side's messages: requests with their parameters and results, notifications with their data. */
export interface Protocol {
  requests: Record<string, { params: unknown; result: unknown }>;
  notes: Record<string, unknown>;
}

/** What the channel needs of an IPC end: process (in a worker) or a cluster Worker (in the primary). */
export interface Port {
  send(message: unknown): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

type Message =
  | { ims: 'req'; id: number; method: string; params: unknown }
  | { ims: 'res'; id: number; ok: true; result: unknown }
  | { ims: 'res'; id: number; ok: false; error: string }
  | { ims: 'note'; event: string; data: unknown };

function isMessage(m: unknown): m is Message {
  return (
    typeof m === 'object' &&
    m !== null &&
    'ims' in m &&
    ((m as { ims: unknown }).ims === 'req' ||
      (m as { ims: unknown }).ims === 'res' ||
      (m as { ims: unknown }).ims === 'note')
  );
}

/** The other side answered a request with an error (its message is kept). */
export class RemoteError extends Error {
  constructor(method: string, message: string) {
    super(`${method}: ${message}`);
    this.name = 'RemoteError';
  }
}

type Handler = (params: unknown) => unknown;

/**
 * One end of the channel. `Out` is what this side sends, `In` what it
 * receives. Requests time out (default 10 s) rather than wait for an end
 * that died; close() fails those still waiting.
 */
export class Channel<Out extends Protocol, In extends Protocol> {
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  private readonly handlers = new Map<string, Handler>();
  private readonly listeners = new Map<string, ((data: unknown) => void)[]>();
  private closed = false;
  private readonly onMessage = (m: unknown) => this.receive(m);

  constructor(
    private readonly port: Port,
    private readonly timeoutMs = 10_000,
  ) {
    port.on('message', this.onMessage);
  }

  request<K extends keyof Out['requests'] & string>(
    method: K,
    params: Out['requests'][K]['params'],
  ): Promise<Out['requests'][K]['result']> {
    if (this.closed) return Promise.reject(new Error(`${method}: the channel is closed`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${method}: no answer in ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      timer.unref();
      this.waiting.set(id, {
        resolve: resolve as (v: unknown) => void,
        reject,
        timer,
      });
      this.send({ ims: 'req', id, method, params });
    });
  }

  notify<K extends keyof Out['notes'] & string>(event: K, data: Out['notes'][K]): void {
    if (!this.closed) this.send({ ims: 'note', event, data });
  }

  /** Answers requests for `method`; a throw (or rejection) goes back as the request's error. */
  handle<K extends keyof In['requests'] & string>(
    method: K,
    fn: (
      params: In['requests'][K]['params'],
    ) => In['requests'][K]['result'] | Promise<In['requests'][K]['result']>,
  ): void {
    this.handlers.set(method, fn as Handler);
  }

  on<K extends keyof In['notes'] & string>(event: K, fn: (data: In['notes'][K]) => void): void {
    const list = this.listeners.get(event) ?? [];
    list.push(fn as (data: unknown) => void);
    this.listeners.set(event, list);
  }

  /** Stops listening; requests still waiting fail. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.off('message', this.onMessage);
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(new Error('the channel closed before the answer'));
      this.waiting.delete(id);
    }
  }

  private send(message: Message): void {
    try {
      this.port.send(message);
    } catch {
      // The other end is gone: its requests time out or close() fails them.
    }
  }

  private receive(m: unknown): void {
    if (!isMessage(m)) return;
    if (m.ims === 'res') {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      clearTimeout(w.timer);
      if (m.ok) w.resolve(m.result);
      else w.reject(new RemoteError('request', m.error));
    } else if (m.ims === 'note') {
      for (const fn of this.listeners.get(m.event) ?? []) fn(m.data);
    } else {
      void this.answer(m.id, m.method, m.params);
    }
  }

  private async answer(id: number, method: string, params: unknown): Promise<void> {
    const fn = this.handlers.get(method);
    if (!fn) {
      this.send({ ims: 'res', id, ok: false, error: `unknown request ${method}` });
      return;
    }
    try {
      this.send({ ims: 'res', id, ok: true, result: await fn(params) });
    } catch (err) {
      this.send({
        ims: 'res',
        id,
        ok: false,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}

/** One method call on an object the other side serves (see `served()` and `proxy()`). */
export interface Call {
  target: string;
  method: string;
  args: unknown[];
}

/** Async methods only: what can cross the channel. */
export type Remote<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R>
    ? (...args: A) => Promise<R>
    : never;
};

/**
 * Answers calls on the objects of `registry`, by name: the handler of a
 * `call` request on the side that holds the one instance.
 */
export function served(registry: ReadonlyMap<string, object>): (call: Call) => Promise<unknown> {
  return async ({ target, method, args }) => {
    const impl = registry.get(target) as Record<string, unknown> | undefined;
    const fn = impl?.[method];
    if (typeof fn !== 'function') throw new Error(`no method ${target}.${method}`);
    return (fn as (...a: unknown[]) => unknown).apply(impl, args);
  };
}

/** An object whose `methods` call the one served as `target` on the other side. */
export function proxy<T extends object>(
  call: (call: Call) => Promise<unknown>,
  target: string,
  methods: readonly (keyof T & string)[],
): Remote<T> {
  const out: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const method of methods) out[method] = (...args) => call({ target, method, args });
  return out as Remote<T>;
}
