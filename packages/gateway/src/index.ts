export { Gateway, type GatewayOptions } from './daemon.ts';
export { gantryPaths, type GantryPaths } from './paths.ts';
export { loadSession, saveSession, type GatewaySession } from './session-file.ts';
export { loadBindings, saveBinding, type Binding } from './bindings.ts';
export { register, defaultGatewayName, type Registration } from './register.ts';
export { loadDeviceKey, deviceKeyPath } from './device-key.ts';
export {
  startLocalApi,
  localToken,
  stopRequestSchema,
  type LocalApi,
  type StopRequest,
} from './local-api.ts';
export { createProvider, providerNames } from './providers/registry.ts';
export { GatewayDb } from './state/gateway-db.ts';
export { readJsonFile, writeSecretJson, writeSecretFile } from './files.ts';
export { providerSettingsSchema, mergeSettings, type ProviderSettings } from './providers/settings.ts';
export {
  isRepositoryWithCommit,
  listWorktrees,
  pruneWorktrees,
  type ListedWorktree,
  type PruneResult,
} from './worktrees/index.ts';
export { processAlive } from './state/pid-lock.ts';
export { LogFile, logsToJournal, defaultLogFiles, defaultLogMaxBytes } from './log-file.ts';
