import { refuse, type Decider } from '../decider.ts';
import type { KeyringCommand } from './commands.ts';
import type { KeyringEvent } from './events.ts';

/** The control plane's command keys, stream "keyring": a chain, the newest signs. */
export interface KeyringState {
  keys: readonly { keyId: string; publicKey: string; previousKeyId: string; statement: string }[];
  current: string | null;
}

export const keyringDecider: Decider<KeyringCommand, KeyringEvent, KeyringState> = {
  initialState: () => ({ keys: [], current: null }),
  evolve: (state, event) => ({ keys: [...state.keys, event.data], current: event.data.keyId }),
  decide: (command, state) => {
    if (state.keys.some((k) => k.keyId === command.keyId)) return [];
    if (command.previousKeyId !== (state.current ?? '')) {
      return refuse('conflict', `key ${command.keyId} follows ${command.previousKeyId || 'nothing'}, but the current key is ${state.current ?? 'none'}: rotate again`);
    }
    if (state.current && !command.statement) return refuse('invalid', 'a new key needs a statement signed by the current key');
    const { keyId, publicKey, previousKeyId, statement } = command;
    return [{ type: 'SigningKeyIntroduced', data: { keyId, publicKey, previousKeyId, statement } }];
  },
};
