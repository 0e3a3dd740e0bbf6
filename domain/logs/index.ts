/** Business logs: levels, headers and custom fields, the coloring rule, settings and queries. */
export * from './levels.ts';
export * from './fields.ts';
export * from './coloring.ts';
export * from './settings.ts';
export * from './query.ts';
export * from './report-checks.ts';
export * from './ip.ts';
export * from './config.ts';
