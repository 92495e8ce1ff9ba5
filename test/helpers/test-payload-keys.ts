// TEST ONLY. A fixed payload key, committed so the recorded histories under test/replay/histories/ (encrypted
// with it by `npm run record-histories`) replay in CI. It protects nothing: never put it in PAYLOAD_KEYS of a
// deployment.
import { createPayloadCodec, parsePayloadKeys } from '../../infra/payload-codec.ts';

/** `PAYLOAD_KEYS` of test stacks and of the recorded histories. TEST ONLY. */
export const TEST_PAYLOAD_KEYS = 'test-only-2026-12:nEHnjm6//JnCfL3jaCbLVOmqayshtBrgzpSwrs+7hbw=';

/** The codec of TEST_PAYLOAD_KEYS. TEST ONLY. */
export const testPayloadCodec = () => createPayloadCodec(parsePayloadKeys(TEST_PAYLOAD_KEYS));
