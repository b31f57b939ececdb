export * from './errors.ts';
export * from './assignment.ts';
export * from './resources.ts';
export * from './frames.ts';
export { version } from './version.ts';
export * from './log.ts';
export * from './local-api.ts';
export * from './events.ts';
export * from './approvals.ts';
