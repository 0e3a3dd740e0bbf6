/** Console users: the user decider, name rules and password/token hashing. */
export * from './events.ts';
export * from './commands.ts';
export { userNamePattern, checkUserName } from './user-name.ts';
export { userDecider, MAX_TOKEN_LABEL_LENGTH, type UserState, type ApiTokenState } from './user.ts';
export {
  hashPassword, verifyPassword, verifyPasswordAsync, passwordProblem, hashToken, MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH,
} from './password-hash.ts';
