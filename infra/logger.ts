import { pino, type DestinationStream, type Logger } from 'pino';
import { build as prettyStream } from 'pino-pretty';

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

/** How log lines are written: `json` (one object per line, for collectors), `pretty` (for a person), `auto`. */
export type LogFormat = 'auto' | 'json' | 'pretty';

/** `auto` is `pretty` when the output is a terminal (a person runs `npm start`), `json` everywhere else. */
export function resolveLogFormat(format: LogFormat, isTty = Boolean(process.stdout.isTTY)): 'json' | 'pretty' {
  return format === 'auto' ? (isTty ? 'pretty' : 'json') : format;
}

/**
 * Lines a person reads: time, level, the process's name, the sentence, then the fields on one indented line each
 * (`pid`, `hostname` and pino's `name` folded into the prefix; a finished turn's `turn` fields left to its sentence). Redaction happens before this (pino redacts
 * while it serialises), so a pretty line never shows what a JSON one would not.
 */
function prettyDestination(destination: DestinationStream | undefined, colorize: boolean): DestinationStream {
  return prettyStream({
    colorize,
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    // `turn`: a finished turn's fields, which its sentence already says (infra/turn-log.ts).
    ignore: 'pid,hostname,name,turn',
    messageFormat: '{if name}{name}: {end}{msg}',
    singleLine: true,
    ...(destination ? { destination } : {}),
  });
}

/** Root logger (to stdout, or `destination`); children carry request and turn ids. */
export function createLogger(level = 'info', name = 'turnflow', destination?: DestinationStream, format: LogFormat = 'json'): Logger {
  const options = {
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // `msg` carries the human sentence; `message` is redacted because it is the user's text.
    messageKey: 'msg',
  };
  if (resolveLogFormat(format) === 'pretty') return pino(options, prettyDestination(destination, !destination && Boolean(process.stdout.isTTY)));
  return destination ? pino(options, destination) : pino(options);
}
