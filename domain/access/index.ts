/** Access control: roles, grants, and the access decider (stream "access"). */
export * from './roles.ts';
export * from './events.ts';
export * from './commands.ts';
export { accessDecider, admins, type AccessState } from './access.ts';
export { grantChanges } from './grants.ts';
