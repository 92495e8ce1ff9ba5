import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Keys whose values never reach a log line: credentials, and user and model text. Each at the top level and one
 * level down (`{ err }`, `{ req }`, an SDK's error with its request's `headers`); a logged object keeps its
 * shape, the value reads `[redacted]`.
 */
export const REDACT_PATHS = [
  // Credentials: API keys, the chart URLs' signatures, cookies.
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.headers["x-api-key"]',
  'cookie',
  '*.headers.cookie',
  'apiKey',
  '*.apiKey',
  'key',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'sig',
  '*.sig',
  // User and model text; `err.message` stays visible, so no `*.message` wildcard.
  'message',
  'input.message',
  'question',
  '*.question',
  'prompt',
  '*.prompt',
  'answer',
  '*.answer',
  'text',
  '*.text',
  // Request bodies, and body-parser's parse errors, which carry the raw body (`err.body`).
  'body',
  '*.body',
];

/** Root logger (to stdout, or `destination`); children carry request and turn ids. */
export function createLogger(level = 'info', name = 'turnflow', destination?: DestinationStream): Logger {
  const options = {
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // `msg` carries the human sentence; `message` is redacted because it is the user's text.
    messageKey: 'msg',
  };
  return destination ? pino(options, destination) : pino(options);
}
