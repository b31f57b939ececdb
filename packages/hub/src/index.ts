export { createHub, type CreateHubOptions, type Hub } from './hub.ts';
export { startHub, type HubOptions, type RunningHub } from './server.ts';
export { openStore, isPostgresUrl } from './store/open.ts';
export { Store, type StoreKind } from './store/store.ts';
export { defaultDispatchSettings, type DispatchSettings } from './dispatch/settings.ts';
export { issueToken } from './auth/authenticate.ts';
export { defaultHandshakeLimits, type HandshakeLimits } from './ws/handshakes.ts';
export { defaultChainSettings, type ChainSettings } from './domain/chain-limits.ts';
