export { badRequest, failed, unknownMethod } from './answers';
export { type Bundle, ConsoleLink, type Engine, type LinkOptions } from './console-link';
export {
  type LogLevel,
  LogLevelSetting,
  type NodeEnv,
  nodeEnv,
  nodeSettings,
  nodeSettingsProblems,
  parseHostPort,
} from './settings';
