/** Host agents and the control plane's command keys. */
export * from './events.ts';
export * from './commands.ts';
export { hostAgentDecider, isActive, MAX_TOKEN_LIFETIME_MS, type HostAgentState } from './host.ts';
export { keyringDecider, type KeyringState } from './keyring.ts';
