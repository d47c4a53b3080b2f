/** A minimal server-sent events client over fetch, for tests that play an SMTP node or a browser. */

export interface SseEvent {
  type: string;
  data: unknown;
}

export class SseClient {
  private readonly queue: SseEvent[] = [];
  private waiters: { accept: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }[] = [];
  private readonly abort = new AbortController();
  closed = false;

  private constructor() {}

  static async open(url: string, headers: Record<string, string>): Promise<SseClient> {
    const client = new SseClient();
    const res = await fetch(url, { headers, signal: client.abort.signal });
    if (res.status !== 200 || !res.body)
      throw new Error(`event stream: ${res.status} ${await res.text()}`);
    void client.read(res.body);
    return client;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let type = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) type = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data !== '') this.deliver({ type, data: JSON.parse(data) as unknown });
        }
      }
    } catch {
      // aborted or dropped
    }
    this.closed = true;
  }

  private deliver(event: SseEvent): void {
    const waiter = this.waiters.find((w) => w.accept(event));
    if (waiter) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve(event);
    } else {
      this.queue.push(event);
    }
  }

  /** The next event of `type` (already received or still to come) that matches. */
  next(
    type: string,
    match: (data: unknown) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<SseEvent> {
    const accept = (e: SseEvent) => e.type === type && match(e.data);
    const i = this.queue.findIndex(accept);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0] as SseEvent);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${type} event within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        accept,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  close(): void {
    this.abort.abort();
  }
}
