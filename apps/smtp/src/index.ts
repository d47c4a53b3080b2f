// @ims/smtp as a library: the node without its process edge (main.ts), for
// the benchmarks and for embedding.

export { ClusterNode, type ClusterNodeOptions } from './cluster/primary';
export { createLogger, type Logger } from './log';
export { type Counters, SmtpNode, type SmtpNodeOptions } from './smtp-node';
