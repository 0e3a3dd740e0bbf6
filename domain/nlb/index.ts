/** MSEC's NLB as pure code: settings, per-service state, selection, shaping, breakers. */
export * from './settings.ts';
export * from './state.ts';
export * from './tally.ts';
export * from './select.ts';
export * from './shape.ts';
export * from './breaker.ts';
