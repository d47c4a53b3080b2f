export { type Bundle, PostfixNode } from './agent';
export { ApplyError, greeting, PostfixInstance, startupFailure } from './instance';
