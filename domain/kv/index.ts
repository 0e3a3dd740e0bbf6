export * from './events.ts';
export * from './rules.ts';
export * from './slots.ts';
export * from './placement.ts';
export * from './cluster.ts';
