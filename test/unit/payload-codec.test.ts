// The payload codec: what Temporal stores is ciphertext; keys rotate; tampering and unknown keys are errors
// that say so; payloads written before the codec still read. Plus where the keys come from.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { ConfigError, loadConfig } from '../../infra/config.ts';
import { createPayloadCodec, ENCRYPTED_ENCODING, parsePayloadKeys, PayloadDecryptionError, UnknownPayloadKeyError } from '../../infra/payload-codec.ts';
import { codecUiToken, DEV_KEY_FILE, resolvePayloadKeys } from '../../infra/payload-keys.ts';

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const SECRET = 'What was our revenue in Europe last month? My card is 4111';
const payloadOf = (value: unknown) => defaultPayloadConverter.toPayload(value);
const valueOf = (p: Payload) => defaultPayloadConverter.fromPayload(p);
const bytesText = (p: Payload) => Buffer.concat([...Object.values(p.metadata ?? {}), p.data ?? new Uint8Array()].map((b) => Buffer.from(b))).toString('latin1');

describe('payload codec', () => {
  const keys = parsePayloadKeys(key('k1'));
  const codec = createPayloadCodec(keys);

  it('encrypts: the stored payload holds none of the text, and decodes back to the same value', async () => {
    const value = { message: SECRET, slots: { region: ['Europe'] } };
    const [stored] = await codec.encode([payloadOf(value)]);
    assert.equal(Buffer.from(stored!.metadata!.encoding!).toString(), ENCRYPTED_ENCODING);
    assert.equal(Buffer.from(stored!.metadata!['encryption-key-id']!).toString(), 'k1');
    for (const needle of ['revenue', 'Europe', '4111', 'json/plain']) assert.ok(!bytesText(stored!).includes(needle), `ciphertext shows ${needle}`);
    const [back] = await codec.decode([stored!]);
    assert.deepEqual(valueOf(back!), value);
  });

  it('uses a fresh IV per payload: the same value never encrypts to the same bytes', async () => {
    const [a, b] = await codec.encode([payloadOf(SECRET), payloadOf(SECRET)]);
    assert.notDeepEqual(Buffer.from(a!.data!), Buffer.from(b!.data!));
  });

  it('keeps binary and null payloads intact', async () => {
    for (const value of [null, undefined, new Uint8Array([0, 1, 2, 255]), '', 0]) {
      const [stored] = await codec.encode([payloadOf(value)]);
      assert.deepEqual(valueOf((await codec.decode([stored!]))[0]!), value);
    }
  });

  it('rotates: a payload encrypted with the old key decrypts after a new key is put first, and new payloads use the new key', async () => {
    const oldKey = key('2026-old');
    const [old] = await createPayloadCodec(parsePayloadKeys(oldKey)).encode([payloadOf(SECRET)]);
    const rotated = createPayloadCodec(parsePayloadKeys(`${key('2026-new')},${oldKey}`));
    assert.equal(valueOf((await rotated.decode([old!]))[0]!), SECRET);
    const [fresh] = await rotated.encode([payloadOf(SECRET)]);
    assert.equal(Buffer.from(fresh!.metadata!['encryption-key-id']!).toString(), '2026-new');
  });

  it('refuses a tampered payload', async () => {
    const [stored] = await codec.encode([payloadOf(SECRET)]);
    const data = Buffer.from(stored!.data!);
    data[20] = data[20]! ^ 0x01;
    await assert.rejects(codec.decode([{ ...stored!, data }]), PayloadDecryptionError);
    // The key id is authenticated too: relabelling a payload with another id fails, even one with the same key bytes.
    const bytes = randomBytes(32).toString('base64');
    const two = createPayloadCodec(parsePayloadKeys(`a:${bytes},b:${bytes}`));
    const [a] = await two.encode([payloadOf(SECRET)]);
    await assert.rejects(two.decode([{ metadata: { ...a!.metadata, 'encryption-key-id': Buffer.from('b') }, data: a!.data }]), PayloadDecryptionError);
    await assert.rejects(codec.decode([{ metadata: stored!.metadata, data: data.subarray(0, 10) }]), PayloadDecryptionError);
  });

  it('names the key id it does not know', async () => {
    const [other] = await createPayloadCodec(parsePayloadKeys(key('elsewhere-7'))).encode([payloadOf(SECRET)]);
    await assert.rejects(codec.decode([other!]), (err: Error) => {
      assert.ok(err instanceof UnknownPayloadKeyError);
      assert.match(err.message, /"elsewhere-7"/);
      assert.match(err.message, /configured ids: k1/);
      return true;
    });
  });

  it('lets unencrypted payloads through on decode, so histories from before the codec still read', async () => {
    const plain = payloadOf({ message: SECRET });
    const [back] = await codec.decode([plain]);
    assert.deepEqual(valueOf(back!), { message: SECRET });
  });
});

describe('PAYLOAD_KEYS', () => {
  it('parses ids and 32-byte keys; the first is the encrypting one', () => {
    const keys = parsePayloadKeys(` ${key('new')} , ${key('old')} `);
    assert.deepEqual(keys.map((k) => k.id), ['new', 'old']);
    assert.equal(keys[0]!.key.length, 32);
  });

  it('says what is wrong with a bad value, never showing the key', () => {
    const short = `k:${randomBytes(16).toString('base64')}`;
    for (const [value, message] of [
      ['nokey', /not id:base64-key/],
      [short, /"k" is 16 bytes, expected 32/],
      ['k:not base64!', /not base64/],
      [`bad id:${randomBytes(32).toString('base64')}`, /key id must be/],
      [`${key('k')},${key('k')}`, /listed twice/],
    ] as const) {
      assert.throws(() => loadConfig({ PAYLOAD_KEYS: value }), (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /PAYLOAD_KEYS/);
        assert.match(err.message, message);
        const material = value.split(',')[0]!.split(':')[1];
        if (material && material.length > 16) assert.ok(!err.message.includes(material), 'the key material is not in the message');
        return true;
      });
    }
  });

  it('is required in production', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'production' }), /PAYLOAD_KEYS: required in production/);
    assert.equal(loadConfig({ NODE_ENV: 'production', PAYLOAD_KEYS: key('k1') }).PAYLOAD_KEYS![0]!.id, 'k1');
  });

  it('CORS origins: the embedded Web UI by default outside production, none in it, validated when set', () => {
    assert.deepEqual(loadConfig({ TEMPORAL_UI_PORT: '8300' }).CODEC_CORS_ORIGINS, ['http://127.0.0.1:8300', 'http://localhost:8300']);
    assert.deepEqual(loadConfig({ NODE_ENV: 'production', PAYLOAD_KEYS: key('k') }).CODEC_CORS_ORIGINS, []);
    assert.deepEqual(loadConfig({ CODEC_CORS_ORIGINS: 'https://temporal.example.com, http://ui.local:8080' }).CODEC_CORS_ORIGINS, ['https://temporal.example.com', 'http://ui.local:8080']);
    assert.deepEqual(loadConfig({ CODEC_CORS_ORIGINS: 'none' }).CODEC_CORS_ORIGINS, []);
    assert.throws(() => loadConfig({ CODEC_CORS_ORIGINS: 'https://temporal.example.com/path' }), /CODEC_CORS_ORIGINS/);
  });
});

describe('the development key', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'turnflow-keys-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is made once in DATA_DIR with mode 0600, and read back by the next process', async () => {
    const config = loadConfig({ DATA_DIR: dir });
    const first = resolvePayloadKeys(config);
    assert.equal(first.source, 'dev-file');
    assert.match(first.keys[0]!.id, /^dev-[0-9a-f]{8}$/);
    const file = path.join(dir, DEV_KEY_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const again = resolvePayloadKeys(config);
    assert.deepEqual(again.keys, first.keys);
    const [stored] = await first.codec.encode([payloadOf(SECRET)]);
    assert.equal(valueOf((await again.codec.decode([stored!]))[0]!), SECRET, 'a restart reads what the last run wrote');
    assert.match(readFileSync(file, 'utf8'), /^dev-[0-9a-f]{8}:[A-Za-z0-9+/]{43}=\n$/);
  });

  it('gives way to PAYLOAD_KEYS', () => {
    const resolved = resolvePayloadKeys(loadConfig({ DATA_DIR: dir, PAYLOAD_KEYS: key('env-1') }));
    assert.equal(resolved.source, 'env');
    assert.equal(resolved.keys[0]!.id, 'env-1');
  });

  it('derives a Web UI token that reveals nothing of the key, unless CODEC_UI_TOKEN is set', () => {
    const keys = parsePayloadKeys(key('k1'));
    const token = codecUiToken({ CODEC_UI_TOKEN: undefined }, keys);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!token.includes(keys[0]!.key.toString('base64url').slice(0, 8)));
    assert.equal(codecUiToken({ CODEC_UI_TOKEN: undefined }, keys), token, 'stable for the same keys (every API replica serves the same URL)');
    assert.notEqual(codecUiToken({ CODEC_UI_TOKEN: undefined }, parsePayloadKeys(key('k1'))), token);
    assert.equal(codecUiToken({ CODEC_UI_TOKEN: 'x'.repeat(40) }, keys), 'x'.repeat(40));
  });
});
