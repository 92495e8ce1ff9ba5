import { z } from 'zod';
import { MAX_MESSAGE_CHARS } from '../activities/guardrails/rules.ts';

// C0/C1 control characters except tab, newline and carriage return: no text a person types contains them,
// and Postgres refuses NUL, so a message with them could be answered but never stored.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
// A UTF-16 surrogate without its pair: not Unicode text (JSON's \ud800 escapes can produce one).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const text = (name: string, max: number) =>
  z
    .string()
    .min(1, `${name} must not be empty`)
    .max(max, `${name} must be at most ${max} characters`)
    .refine((m) => !CONTROL.test(m), `${name} must not contain control characters (other than tab and newline)`)
    .refine((m) => !LONE_SURROGATE.test(m), `${name} is not valid Unicode (unpaired surrogate)`);

/** What a session id may be (contract). */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** A turn's message, `name` naming it in the refusal: 1-4000 characters of text, not blank. */
export const messageText = (name: string) => text(name, MAX_MESSAGE_CHARS).refine((m) => m.trim().length > 0, `${name} must not be blank`);

/** A user id: 1-128 characters of text. */
export const userIdText = (name: string) => text(name, 128);

/** Body of POST /v1/turns (contract). */
export const createTurnBody = z
  .object({
    sessionId: z.string().regex(SESSION_ID_PATTERN, 'sessionId must be 1-128 characters of A-Z, a-z, 0-9, _ or -'),
    message: messageText('message'),
    userId: userIdText('userId').optional(),
  })
  .strict();

export type CreateTurnBody = z.infer<typeof createTurnBody>;

/** Idempotency-Key header: printable ASCII, 1-255 characters. */
export const idempotencyKey = z.string().regex(/^[\x21-\x7e]{1,255}$/, 'Idempotency-Key must be 1-255 printable ASCII characters');

/** Turn ids in paths: what the API hands out (UUIDs or 22-character digests). */
export const TURN_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Longest comment a feedback post may carry. */
export const FEEDBACK_COMMENT_MAX_CHARS = 2000;
/** Longest corrected SQL (the SQL validator's own limit). */
export const FEEDBACK_SQL_MAX_CHARS = 20_000;

const correctedSql = (name: string) =>
  text(name, FEEDBACK_SQL_MAX_CHARS).refine((s) => s.trim().length > 0, `${name} must not be blank`);

/**
 * Body of POST /v1/turns/:turnId/feedback: a rating, an optional comment and an optional corrected SQL
 * (`sql` is accepted as another name of `correctedSql`, the name DESIGN.md gives it).
 */
export const feedbackBody = z
  .object({
    rating: z.enum(['up', 'down'], { error: 'rating must be "up" or "down"' }),
    comment: text('comment', FEEDBACK_COMMENT_MAX_CHARS).optional(),
    correctedSql: correctedSql('correctedSql').optional(),
    sql: correctedSql('sql').optional(),
  })
  .strict()
  .refine((b) => b.correctedSql === undefined || b.sql === undefined, { message: 'send correctedSql or sql, not both', path: ['sql'] })
  .transform(({ sql, ...rest }) => (sql !== undefined ? { ...rest, correctedSql: sql } : rest));

export type FeedbackBody = z.infer<typeof feedbackBody>;
