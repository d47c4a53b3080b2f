/**
 * Server-sent event streams: one per attached SMTP node (restart and
 * directory signals) and one per browser (live service status). A heartbeat
 * keeps idle streams open through proxies and lets both ends notice a drop.
 */

import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export interface NodeEventsOptions {
  heartbeatMs?: number;
}

function send(stream: ServerResponse, type: string, data: object): void {
  stream.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
}

export function nodeEvents(heartbeatMs: number) {
  const nodes = new Map<number, Set<ServerResponse>>();
  const browsers = new Set<ServerResponse>();
  const timer = setInterval(() => {
    for (const streams of nodes.values())
      for (const s of streams) send(s, 'heartbeat', { at: new Date().toISOString() });
    for (const s of browsers) s.write(': heartbeat\n\n');
  }, heartbeatMs);
  timer.unref();

  const open = (stream: ServerResponse) => {
    stream.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    stream.write(': connected\n\n');
  };

  return {
    /** Opens a node's stream; `onClose` runs when it drops. */
    attachNode(nodeId: number, stream: ServerResponse, onClose: () => void): void {
      open(stream);
      const set = nodes.get(nodeId) ?? new Set<ServerResponse>();
      nodes.set(nodeId, set);
      set.add(stream);
      stream.on('close', () => {
        set.delete(stream);
        if (set.size === 0) nodes.delete(nodeId);
        onClose();
      });
    },
    attachBrowser(stream: ServerResponse, first: { type: string; data: object }): void {
      open(stream);
      send(stream, first.type, first.data);
      browsers.add(stream);
      stream.on('close', () => browsers.delete(stream));
    },
    /** Ends a node's streams (it was deregistered). */
    detachNode(nodeId: number): void {
      for (const s of nodes.get(nodeId) ?? []) s.end();
      nodes.delete(nodeId);
    },
    isConnected(nodeId: number): boolean {
      return (nodes.get(nodeId)?.size ?? 0) > 0;
    },
    connectedNodes(): number[] {
      return [...nodes.keys()];
    },
    publishToNode(nodeId: number, type: string, data: object): boolean {
      const set = nodes.get(nodeId);
      if (!set) return false;
      for (const s of set) send(s, type, data);
      return true;
    },
    /** Sends to every attached node; returns how many were reached. */
    publishToNodes(type: string, data: object): number {
      for (const set of nodes.values()) for (const s of set) send(s, type, data);
      return nodes.size;
    },
    publishToBrowsers(type: string, data: object): void {
      for (const s of browsers) send(s, type, data);
    },
    close(): void {
      clearInterval(timer);
      for (const set of nodes.values()) for (const s of set) s.end();
      for (const s of browsers) s.end();
    },
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    nodeEvents: ReturnType<typeof nodeEvents>;
  }
}

export default fp(
  async (app: FastifyInstance, opts: NodeEventsOptions) => {
    const events = nodeEvents(opts.heartbeatMs ?? 5000);
    app.decorate('nodeEvents', events);
    // Streams are ended before the server closes, or close() would wait on them.
    app.addHook('preClose', async () => events.close());
  },
  { name: 'node-events' },
);
