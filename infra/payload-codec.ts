// The payload codec: every payload the client and the worker send to Temporal (workflow and activity inputs
// and results, memo, heartbeat details, signal and query arguments) is encrypted with AES-256-GCM before it
// leaves the process, so messages, answers, slots, rows and profiles are ciphertext in history and visibility.
// Keys carry ids so they can rotate: the first key encrypts, every listed key decrypts. Search attributes are
// not payloads a codec sees (the server indexes them): they must never hold user text.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
// A CommonJS module: its namespaces are properties of the default export under ESM.
import proto from '@temporalio/proto';

/** `encoding` metadata of an encrypted payload (the same name Temporal's samples and other SDKs use). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata naming the key a payload was encrypted with. */
export const KEY_ID_METADATA = 'encryption-key-id';

const ProtoPayload = proto.temporal.api.common.v1.Payload;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** One AES-256 key and its id (the id is stored beside each payload; the key never is). */
export interface PayloadKey {
  readonly id: string;
  readonly key: Buffer;
}

/** A payload encrypted with a key id that is not configured (rotated out too early, or another deployment's). */
export class UnknownPayloadKeyError extends Error {
  constructor(readonly keyId: string, readonly knownIds: string[]) {
    super(`payload was encrypted with key id "${keyId}", which is not in PAYLOAD_KEYS (configured ids: ${knownIds.join(', ') || 'none'})`);
    this.name = 'UnknownPayloadKeyError';
  }
}

/** An encrypted payload that does not decrypt: altered, truncated, or encrypted with other bytes under the same id. */
export class PayloadDecryptionError extends Error {
  constructor(readonly keyId: string, reason: string) {
    super(`payload encrypted with key id "${keyId}" could not be decrypted (${reason}): it was altered, or the key under that id is not the one that encrypted it`);
    this.name = 'PayloadDecryptionError';
  }
}

/**
 * Parses `PAYLOAD_KEYS`: comma-separated `id:base64` pairs, each key 32 bytes (e.g. `openssl rand -base64 32`).
 * Throws with a message naming what is wrong, never the key material.
 */
export function parsePayloadKeys(value: string): PayloadKey[] {
  const keys: PayloadKey[] = [];
  const entries = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (entries.length === 0) throw new Error('expected at least one id:base64-key');
  for (const [i, entry] of entries.entries()) {
    const colon = entry.indexOf(':');
    if (colon < 0) throw new Error(`entry ${i + 1} is not id:base64-key`);
    const id = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!KEY_ID_PATTERN.test(id)) throw new Error(`entry ${i + 1}: key id must be 1-64 of [A-Za-z0-9._-]`);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new Error(`key "${id}" is not base64`);
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== KEY_BYTES) throw new Error(`key "${id}" is ${key.length} bytes, expected ${KEY_BYTES} (generate one with: openssl rand -base64 32)`);
    if (keys.some((k) => k.id === id)) throw new Error(`key id "${id}" is listed twice`);
    keys.push({ id, key });
  }
  return keys;
}

/** `id:base64` of keys, as PAYLOAD_KEYS and the development key file hold them. */
export function formatPayloadKeys(keys: readonly PayloadKey[]): string {
  return keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : undefined);

/**
 * The AES-256-GCM codec: `keys[0]` encrypts, all of `keys` decrypt. An encrypted payload's data is
 * iv (12 bytes) | ciphertext | tag (16 bytes) over the original payload (metadata and data) in protobuf form,
 * with the key id as additional authenticated data. Payloads that are not encrypted pass through on decode,
 * so histories written before the codec still read.
 */
export function createPayloadCodec(keys: readonly PayloadKey[]): PayloadCodec {
  if (keys.length === 0) throw new Error('createPayloadCodec needs at least one key');
  const [primary] = keys as [PayloadKey, ...PayloadKey[]];
  const byId = new Map(keys.map((k) => [k.id, k.key]));
  const knownIds = keys.map((k) => k.id);

  const encryptOne = (payload: Payload): Payload => {
    const plain = ProtoPayload.encode(payload).finish();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', primary.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(utf8(primary.id));
    const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return { metadata: { [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(primary.id) }, data };
  };

  const decryptOne = (payload: Payload): Payload => {
    if (text(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return payload;
    const keyId = text(payload.metadata?.[KEY_ID_METADATA]) ?? '';
    const key = byId.get(keyId);
    if (!key) throw new UnknownPayloadKeyError(keyId, knownIds);
    const data = payload.data ?? new Uint8Array();
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError(keyId, 'too short');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(utf8(keyId));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(keyId, 'authentication failed');
    }
    const inner = ProtoPayload.decode(plain);
    return { metadata: inner.metadata, data: inner.data };
  };

  return {
    async encode(payloads) {
      return payloads.map(encryptOne);
    },
    async decode(payloads) {
      return payloads.map(decryptOne);
    },
  };
}
