/** Webhook signatures: what a receiver checks, and where the console keeps its key. */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkWebhookSignature, WebhookSigner, webhookKeyFile } from '../../../apps/monitor/webhook-signing.ts';

const now = 1_700_000_000_000;
const t = Math.floor(now / 1000);

test('a delivery signed with the key checks with the public key; anything changed does not', () => {
  const signer = WebhookSigner.generate();
  const body = '{"type":"AlarmRaised","value":12}';
  const headers = { signature: signer.sign(t, 'evt-1', body), timestamp: String(t), delivery: 'evt-1' };
  assert.match(headers.signature, /^ed25519=[0-9a-f]{12}:[A-Za-z0-9+/]+=*$/);
  assert.equal(checkWebhookSignature(headers, body, signer.publicKeyPem, now), 'valid');
  assert.equal(checkWebhookSignature(headers, body.replace('12', '13'), signer.publicKeyPem, now), 'bad-signature', 'a changed body');
  assert.equal(checkWebhookSignature({ ...headers, delivery: 'evt-2' }, body, signer.publicKeyPem, now), 'bad-signature', 'a replay under another id');
  assert.equal(checkWebhookSignature({ ...headers, timestamp: String(t + 1) }, body, signer.publicKeyPem, now), 'bad-signature', 'a moved timestamp');
  assert.equal(checkWebhookSignature(headers, body, signer.publicKeyPem, now + 10 * 60_000), 'stale', 'an old delivery replayed later');
  assert.equal(checkWebhookSignature(headers, body, WebhookSigner.generate().publicKeyPem, now), 'wrong-key');
  const forged = WebhookSigner.generate();
  assert.equal(checkWebhookSignature({ ...headers, signature: forged.sign(t, 'evt-1', body).replace(/=[0-9a-f]{12}:/, `=${signer.keyId}:`) }, body, signer.publicKeyPem, now), 'bad-signature', 'another key claiming this key id');
  for (const signature of ['', 'hmac=abc:def', `ed25519=${signer.keyId}`, `ed25519=${signer.keyId}:!!!`]) {
    assert.equal(checkWebhookSignature({ ...headers, signature }, body, signer.publicKeyPem, now), 'malformed', signature);
  }
  assert.equal(checkWebhookSignature({ ...headers, timestamp: 'soon' }, body, signer.publicKeyPem, now), 'malformed');
});

test('the key lives in the home, private; a readable key file is refused; MSEC_WEBHOOK_SIGNING_KEY wins', () => {
  const home = mkdtempSync(join(tmpdir(), 'msec-webhook-key-'));
  try {
    const first = WebhookSigner.load(home, {});
    const file = join(home, webhookKeyFile);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(WebhookSigner.load(home, {}).keyId, first.keyId, 'the same key after a restart');
    chmodSync(file, 0o644);
    assert.throws(() => WebhookSigner.load(home, {}), /can be read by other users .*chmod 600/);
    chmodSync(file, 0o600);
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const fromEnv = WebhookSigner.load(home, { MSEC_WEBHOOK_SIGNING_KEY: Buffer.from(pem).toString('base64') });
    assert.notEqual(fromEnv.keyId, first.keyId);
    assert.equal(WebhookSigner.load(home, { MSEC_WEBHOOK_SIGNING_KEY: pem }).keyId, fromEnv.keyId);
    assert.throws(() => WebhookSigner.load(home, { MSEC_WEBHOOK_SIGNING_KEY: 'not a key' }), /not a PKCS#8 private key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.throws(() => WebhookSigner.load(home, { MSEC_WEBHOOK_SIGNING_KEY: rsa }), /holds a rsa key/);
    writeFileSync(file, 'garbage', { mode: 0o600 });
    assert.throws(() => WebhookSigner.load(home, {}), /not a PKCS#8 private key/);
    assert.ok(readFileSync(file, 'utf8') === 'garbage', 'a broken key file is not replaced silently');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
