import { pino, type Logger } from 'pino';

export type { Logger };

/** Keys whose values never reach a log line: credentials and message bodies. */
export const REDACT_PATHS = [
  'authorization',
  'req.headers.authorization',
  'headers.authorization',
  '*.apiKey',
  'apiKey',
  'password',
  // User and model text; `err.message` stays visible, so no `*.message` wildcard.
  'message',
  'input.message',
  'answer',
  'result.answer',
  'text',
  'body',
  'req.body',
];

/** Root logger; children carry request and turn ids. */
export function createLogger(level = 'info', name = 'turnflow'): Logger {
  return pino({
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // `msg` carries the human sentence; `message` is redacted because it is the user's text.
    messageKey: 'msg',
  });
}
