export { PostfixNode } from './agent';
export { ApplyError, greeting, PostfixInstance, startupFailure } from './instance';
export { type Bundle, ConsoleLink, type Engine } from './link';
