export { Gateway, type GatewayOptions } from './daemon.ts';
export {
  dbFileOf,
  loadSession,
  loadSessions,
  sameHub,
  urlsOf,
  saveSession,
  saveSessions,
  type GatewaySession,
} from './session-file.ts';
export { loadBindings, removeBinding, saveBinding, type Binding } from './bindings.ts';
export { agentFolder, ensureAgentFolder, sharedFolders } from './agent-folder.ts';
export { register, defaultGatewayName, hubIdAt, type Registration } from './register.ts';
export { loadDeviceKey, deviceKeyPath } from './device-key.ts';
export { startLocalApi, stopRequestSchema, type LocalApi, type StopRequest } from './local-api.ts';
export { createProvider, providerNames } from './providers/registry.ts';
export { GatewayDb } from './state/gateway-db.ts';
export { providerSettingsSchema, mergeSettings, type ProviderSettings } from './providers/settings.ts';
export {
  isRepositoryWithCommit,
  listWorktrees,
  pruneWorktrees,
  type ListedWorktree,
  type PruneResult,
} from './worktrees/index.ts';
// Shared with the hub and the CLI: `@gantry/protocol/node`.
export {
  gantryPaths,
  localToken,
  processAlive,
  readJsonFile,
  writeSecretFile,
  writeSecretJson,
  type GantryPaths,
} from '@gantry/protocol/node';
export { LogFile, logsToJournal, defaultLogFiles, defaultLogMaxBytes } from './log-file.ts';
