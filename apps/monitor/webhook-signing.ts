/**
 * Signatures of alarm webhooks: Ed25519 with the console's webhook key, so a receiver checks a
 * delivery with the public key alone (GET /api/alarms/signing-key, `msec alarm webhook` prints
 * it) and no shared secret ever sits in an event or on the bus.
 *
 * A delivery carries
 *   X-Msec-Delivery:  the alarm event's id (the same on every retry: receivers drop repeats)
 *   X-Msec-Timestamp: epoch seconds of this attempt (receivers refuse old ones, e.g. > 5 min)
 *   X-Msec-Signature: ed25519=<key id>:<base64 signature>
 * over the text `msec-webhook-v1\n<timestamp>\n<delivery>\n<body>`.
 *
 * The key is MSEC_WEBHOOK_SIGNING_KEY (a PKCS#8 PEM, or that PEM in base64) when set, else the
 * file `webhook-signing.key` in the console's home, created on the first start (mode 0600).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const webhookKeyFile = 'webhook-signing.key';
export const webhookKeyEnv = 'MSEC_WEBHOOK_SIGNING_KEY';
export const signatureScheme = 'ed25519';

export function signedText(timestamp: number, delivery: string, body: string): string {
  return `msec-webhook-v1\n${timestamp}\n${delivery}\n${body}`;
}

export class WebhookSigner {
  readonly keyId: string;
  readonly publicKeyPem: string;

  private constructor(private readonly privateKey: KeyObject, readonly source: string) {
    const publicKey = createPublicKey(privateKey);
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.keyId = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 12);
  }

  static generate(): WebhookSigner {
    return new WebhookSigner(generateKeyPairSync('ed25519').privateKey, 'generated');
  }

  static fromPem(pem: string, source: string): WebhookSigner {
    const text = pem.includes('BEGIN') ? pem : Buffer.from(pem.trim(), 'base64').toString('utf8');
    let key: KeyObject;
    try {
      key = createPrivateKey(text);
    } catch (err) {
      throw new Error(`${source} is not a PKCS#8 private key in PEM: ${(err as Error).message}; make one with \`openssl genpkey -algorithm ed25519\``, { cause: err });
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${source} holds a ${key.asymmetricKeyType} key; webhooks are signed with ed25519 (\`openssl genpkey -algorithm ed25519\`)`);
    return new WebhookSigner(key, source);
  }

  /** The key from MSEC_WEBHOOK_SIGNING_KEY, else the home's key file (made on the first start). */
  static load(home: string, env: Record<string, string | undefined> = process.env): WebhookSigner {
    const fromEnv = env[webhookKeyEnv];
    if (fromEnv && fromEnv.trim()) return WebhookSigner.fromPem(fromEnv, webhookKeyEnv);
    const file = join(home, webhookKeyFile);
    if (existsSync(file)) {
      const mode = statSync(file).mode;
      if ((mode & 0o077) !== 0) throw new Error(`${file} can be read by other users (mode ${(mode & 0o777).toString(8)}): run \`chmod 600 ${file}\` and start again`);
      return WebhookSigner.fromPem(readFileSync(file, 'utf8'), file);
    }
    const { privateKey } = generateKeyPairSync('ed25519');
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    chmodSync(temp, 0o600);
    renameSync(temp, file);
    return new WebhookSigner(privateKey, file);
  }

  /** The X-Msec-Signature value for one attempt. */
  sign(timestamp: number, delivery: string, body: string): string {
    const signature = sign(null, Buffer.from(signedText(timestamp, delivery, body)), this.privateKey).toString('base64');
    return `${signatureScheme}=${this.keyId}:${signature}`;
  }
}

export type WebhookCheck = 'valid' | 'malformed' | 'wrong-key' | 'bad-signature' | 'stale';

/**
 * What a receiver does with a delivery (tests use it; the API docs show the same steps):
 * parse the header, check the key id and the signature, refuse timestamps off by more than
 * `toleranceSeconds` from its clock.
 */
export function checkWebhookSignature(
  headers: { signature?: string; timestamp?: string; delivery?: string }, body: string, publicKeyPem: string, nowMs: number, toleranceSeconds = 300,
): WebhookCheck {
  const m = /^ed25519=([0-9a-f]{12}):([A-Za-z0-9+/]+={0,2})$/.exec(headers.signature ?? '');
  const timestamp = Number(headers.timestamp);
  if (!m || !headers.delivery || !/^\d{1,12}$/.test(headers.timestamp ?? '')) return 'malformed';
  const publicKey = createPublicKey(publicKeyPem);
  const keyId = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 12);
  if (m[1] !== keyId) return 'wrong-key';
  if (!verify(null, Buffer.from(signedText(timestamp, headers.delivery, body)), publicKey, Buffer.from(m[2]!, 'base64'))) return 'bad-signature';
  if (Math.abs(nowMs / 1000 - timestamp) > toleranceSeconds) return 'stale';
  return 'valid';
}
