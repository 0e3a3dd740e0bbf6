/**
 * The control plane's command keys: Ed25519 private keys in files (`command-<keyId>.pem` in
 * MSEC_KEYS_DIR, default `keys/` in MSEC_HOME; mode 0600, readable by the console alone),
 * their public halves and succession statements as events (stream "keyring"). The newest key
 * signs. The consoles of one deployment share the keys folder. Nothing here signs for anyone
 * but an authenticated operator's command (MSEC's signer answered any caller on its port).
 */
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { keyringDecider } from '../../../domain/agents/index.ts';
import { DomainError } from '../../../domain/decider.ts';
import { streams } from '../../../domain/streams.ts';
import { uuidv7 } from '../../../domain/event-ids.ts';
import { SigningKey } from '../../../adapters/signing/ed25519.ts';
import { createSecretFile } from '../../../adapters/signing/secret-file.ts';
import { encodeKeyChain, encodeKeySuccession } from '../../../schemas/agent.ts';
import type { CommandBus, CommandOutcome } from '../command-bus.ts';

export class CommandKeys {
  private readonly loaded = new Map<string, SigningKey>();

  constructor(private readonly commands: CommandBus, readonly dir: string, private readonly clock: () => number = Date.now) {}

  static dirFor(home: string, env: Record<string, string | undefined> = process.env): string {
    return env.MSEC_KEYS_DIR || join(home, 'keys');
  }

  /** On the first start the first key is made and announced; later starts check that the current key's file is here. */
  async ensure(): Promise<string> {
    const state = await this.commands.state(streams.keyring, keyringDecider);
    if (state.current) return this.key(state.current).keyId;
    const key = this.made(SigningKey.generate());
    try {
      await this.announce(key, '', '', 'the first command key, made on first start');
    } catch (err) {
      // Another console starting at the same moment announced its key first: use that one.
      if (!(err instanceof DomainError && err.code === 'conflict')) throw err;
      unlinkSync(this.fileOf(key.keyId));
      return this.ensure();
    }
    return key.keyId;
  }

  /** The key that signs now. */
  async current(): Promise<SigningKey> {
    const state = await this.commands.state(streams.keyring, keyringDecider);
    if (!state.current) throw new Error('no command key yet: the console makes one when it starts');
    return this.key(state.current);
  }

  /**
   * A new key, announced in a statement signed by the current one. It signs from now on; an
   * agent refuses the old key once it has followed the chain (at its next heartbeat, or when
   * it starts again after being down).
   */
  async rotate(actor: string, reason: string): Promise<{ keyId: string; previousKeyId: string; outcome: CommandOutcome }> {
    const previous = await this.current();
    const next = this.made(SigningKey.generate());
    const succession = encodeKeySuccession({ previousKeyId: previous.keyId, keyId: next.keyId, publicKey: next.publicKeyRaw, atMs: this.clock() });
    const statement = encodeKeyChain([{ succession, signature: previous.sign('keySuccession', succession) }]);
    const outcome = await this.announce(next, previous.keyId, Buffer.from(statement).toString('base64'), reason, actor);
    return { keyId: next.keyId, previousKeyId: previous.keyId, outcome };
  }

  private async announce(key: SigningKey, previousKeyId: string, statement: string, reason: string, actor = 'system'): Promise<CommandOutcome> {
    const at = this.clock();
    return this.commands.execute(streams.keyring, keyringDecider, {
      type: 'IntroduceSigningKey', keyId: key.keyId, publicKey: key.publicKeyRaw.toString('base64'), previousKeyId, statement,
    }, { commandId: uuidv7(at), actor, reason, at });
  }

  /** A new key written to its file before anyone learns of it. */
  private made(key: SigningKey): SigningKey {
    createSecretFile(this.fileOf(key.keyId), key.toPem());
    this.loaded.set(key.keyId, key);
    return key;
  }

  private key(keyId: string): SigningKey {
    let key = this.loaded.get(keyId);
    if (!key) {
      try {
        key = SigningKey.fromFile(this.fileOf(keyId));
      } catch (err) {
        throw new Error(`the command key ${keyId} is not usable in ${this.dir} (${(err as Error).message}): every console of a deployment needs the keys folder (MSEC_KEYS_DIR)`, { cause: err });
      }
      if (key.keyId !== keyId) throw new Error(`${this.fileOf(keyId)} holds key ${key.keyId}, not ${keyId}: restore the right file`);
      this.loaded.set(keyId, key);
    }
    return key;
  }

  private fileOf(keyId: string): string {
    return join(this.dir, `command-${keyId}.pem`);
  }
}
