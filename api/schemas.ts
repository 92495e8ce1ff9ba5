import { z } from 'zod';
import { MAX_MESSAGE_CHARS } from '../activities/guardrail-rules.ts';

/** Body of POST /v1/turns (contract). */
export const createTurnBody = z
  .object({
    sessionId: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'sessionId must be 1-128 characters of A-Z, a-z, 0-9, _ or -'),
    message: z
      .string()
      .min(1, 'message must not be empty')
      .max(MAX_MESSAGE_CHARS, `message must be at most ${MAX_MESSAGE_CHARS} characters`)
      .refine((m) => m.trim().length > 0, 'message must not be blank'),
    userId: z.string().min(1).max(128).optional(),
  })
  .strict();

export type CreateTurnBody = z.infer<typeof createTurnBody>;

/** Idempotency-Key header: printable ASCII, 1-255 characters. */
export const idempotencyKey = z.string().regex(/^[\x21-\x7e]{1,255}$/, 'Idempotency-Key must be 1-255 printable ASCII characters');

/** Turn ids in paths: what the API hands out (UUIDs or 22-character digests). */
export const TURN_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
