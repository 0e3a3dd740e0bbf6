import { refuse, type Decider } from '../decider.ts';
import type { UserCommand } from './commands.ts';
import { tokenScopes, type UserEvent } from './events.ts';
import { checkUserName } from './user-name.ts';

/** A console user, stream `user-<name>`. Hashes arrive computed (see password-hash.ts). */
export interface UserState {
  exists: boolean;
  name: string | null;
  passwordHash: string | null;
  /** Active API tokens by id. */
  tokens: ReadonlyMap<string, ApiTokenState>;
  /** Every token id this user ever had, so a revoked id is never issued again. */
  usedTokenIds: ReadonlySet<string>;
}

export interface ApiTokenState {
  tokenHash: string;
  label: string;
}

/** Labels are shown in token lists; a short line is enough ("ci deploy", "laptop"). */
export const MAX_TOKEN_LABEL_LENGTH = 64;

const missing: UserState = { exists: false, name: null, passwordHash: null, tokens: new Map(), usedTokenIds: new Set() };

export const userDecider: Decider<UserCommand, UserEvent, UserState> = {
  initialState: () => missing,
  evolve,
  decide,
};

function evolve(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'UserCreated':
      return { ...missing, exists: true, name: event.data.name, passwordHash: event.data.passwordHash };
    case 'PasswordChanged':
      return { ...state, passwordHash: event.data.passwordHash };
    case 'UserRemoved':
      // Back to "never existed": the name can be given to a new account, with no old tokens.
      return missing;
    case 'ApiTokenIssued': {
      const { tokenId, tokenHash, label } = event.data;
      return {
        ...state,
        tokens: new Map(state.tokens).set(tokenId, { tokenHash, label }),
        usedTokenIds: new Set(state.usedTokenIds).add(tokenId),
      };
    }
    case 'ApiTokenRevoked': {
      const tokens = new Map(state.tokens);
      tokens.delete(event.data.tokenId);
      return { ...state, tokens };
    }
    case 'SessionEnded':
      return state;
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

function decide(command: UserCommand, state: UserState): UserEvent[] {
  if (command.type === 'CreateUser') {
    const name = checkUserName(command.name);
    if (state.exists) return refuse('conflict', `user ${name} already exists; pick another name`);
    return [{ type: 'UserCreated', data: { name, passwordHash: checkHash(command.passwordHash) } }];
  }
  if (!state.exists) return refuse('not_found', `user ${command.name} does not exist`);
  const { name } = command;

  switch (command.type) {
    case 'ChangePassword':
      return [{ type: 'PasswordChanged', data: { name, passwordHash: checkHash(command.passwordHash) } }];

    case 'RemoveUser':
      // Removing yourself could leave the console with nobody able to log in.
      if (command.actor === name) return refuse('forbidden', 'you cannot remove yourself; ask another user to remove your account');
      return [{ type: 'UserRemoved', data: { name } }];

    case 'IssueApiToken': {
      const { tokenId, tokenHash, label } = command;
      const scope = command.scope ?? '';
      if (!tokenScopes.includes(scope)) return refuse('invalid', `unknown token scope "${scope}": use "routes" for a route-read token, or none`);
      if (typeof tokenId !== 'string' || tokenId.length === 0) return refuse('invalid', 'a token id is required');
      if (typeof label !== 'string' || [...label].length > MAX_TOKEN_LABEL_LENGTH) {
        return refuse('invalid', `the token label must be text of at most ${MAX_TOKEN_LABEL_LENGTH} characters`);
      }
      if (state.usedTokenIds.has(tokenId)) {
        return refuse('conflict', `user ${name} already had a token with id ${tokenId}; issue it under a new id`);
      }
      return [{ type: 'ApiTokenIssued', data: { name, tokenId, tokenHash: checkHash(tokenHash), label, scope } }];
    }

    case 'RevokeApiToken': {
      if (!state.tokens.has(command.tokenId)) {
        const why = state.usedTokenIds.has(command.tokenId) ? 'it is already revoked' : 'no such token';
        return refuse('not_found', `user ${name} has no active token ${command.tokenId} (${why})`);
      }
      return [{ type: 'ApiTokenRevoked', data: { name, tokenId: command.tokenId } }];
    }

    case 'EndSession': {
      const { nonce, expiresAtMs } = command;
      if (typeof nonce !== 'string' || !/^[A-Za-z0-9_-]{8,64}$/.test(nonce) || !Number.isSafeInteger(expiresAtMs)) {
        return refuse('invalid', 'a session nonce and its expiry are required');
      }
      return [{ type: 'SessionEnded', data: { name, nonce, expiresAtMs } }];
    }

    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

/** The caller hashes; an empty hash means it forgot to, which must never be stored. */
function checkHash(hash: string): string {
  if (typeof hash !== 'string' || hash.length === 0) {
    return refuse('invalid', 'a password or token hash is required; hash it before deciding');
  }
  return hash;
}
