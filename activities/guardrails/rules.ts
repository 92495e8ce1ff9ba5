// Pure guardrail rules shared by the input and output checks and the streaming redactor.

/** Longest message a turn accepts (the API's contract limit). */
export const MAX_MESSAGE_CHARS = 4000;

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
// 13–19 digits with optional single spaces or dashes: card-number shaped; confirmed with Luhn.
const CARD = /\b(?:\d[ -]?){12,18}\d\b/g;
// Phone numbers: optional +country, 9–15 digits with common separators, not part of a longer digit run.
const PHONE = /(?<!\d[ .-]?)(?<![\w-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{3,4}[ .-]\d{3,4}(?:[ .-]\d{2,4})?(?![ .-]?\d)/g;

const INJECTION_RULES: { name: string; pattern: RegExp }[] = [
  { name: 'ignore-instructions', pattern: /\b(ignore|disregard|forget)\b.{0,40}\b(previous|prior|above|all|your)\b.{0,20}\b(instructions|rules|prompts?)\b/i },
  { name: 'reveal-prompt', pattern: /\b(reveal|show|print|repeat|leak)\b.{0,30}\b(system|hidden|initial)\s+(prompt|instructions)\b/i },
  { name: 'role-override', pattern: /\byou are now\b|\bact as (an? )?(unrestricted|jailbroken|dan)\b|\bdeveloper mode\b/i },
  { name: 'sql-injection', pattern: /;\s*(drop|delete|truncate|alter|update|insert)\s+(table|from|into)?\b/i },
];

function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Replaces emails, card numbers (Luhn-checked) and phone numbers; counts replacements. */
export function redactPii(text: string): { text: string; redactions: number; kinds: string[] } {
  let redactions = 0;
  const kinds = new Set<string>();
  let out = text.replace(EMAIL, () => {
    redactions++;
    kinds.add('email');
    return '[email]';
  });
  out = out.replace(CARD, (m) => {
    const digits = m.replace(/\D/g, '');
    if (digits.length < 13 || digits.length > 19 || !luhnValid(digits)) return m;
    redactions++;
    kinds.add('card');
    return '[card]';
  });
  out = out.replace(PHONE, (m) => {
    if (m.replace(/\D/g, '').length < 9) return m;
    redactions++;
    kinds.add('phone');
    return '[phone]';
  });
  return { text: out, redactions, kinds: [...kinds] };
}

/** Names of the prompt-injection rules the text trips. */
export function injectionFindings(text: string): string[] {
  return INJECTION_RULES.filter((r) => r.pattern.test(text)).map((r) => r.name);
}

/**
 * Redacts PII in a token stream. It holds back the tail after the last safe split point
 * (whitespace not between digits, at least `holdChars` from the end), so an email or a
 * spaced card or phone number is never emitted half before it can be recognised.
 */
export class StreamingRedactor {
  private buffer = '';
  redactions = 0;

  // Splits happen only at whitespace not next to a digit or a phone number's punctuation, and none of
  // the PII patterns contain other whitespace, so the hold-back only has to see the character after a
  // split: the first word goes out as soon as the next one starts (each held character costs the
  // first token time: tokens come at 50–100 a second).
  constructor(private readonly holdChars = 2) {}

  /** Feeds a token; returns the text that is safe to emit now (may be empty). */
  push(token: string): string {
    this.buffer += token;
    if (this.buffer.length <= this.holdChars) return '';
    const limit = this.buffer.length - this.holdChars;
    let split = -1;
    for (let i = limit; i > 0; i--) {
      const c = this.buffer[i]!;
      if (c !== ' ' && c !== '\n') continue;
      const before = this.buffer[i - 1] ?? '';
      const after = this.buffer[i + 1] ?? '';
      if (/[\d+()-]/.test(before) || /[\d+()-]/.test(after)) continue;
      split = i + 1;
      break;
    }
    if (split <= 0) return '';
    return this.take(split);
  }

  /** Emits whatever is left, redacted. */
  flush(): string {
    return this.take(this.buffer.length);
  }

  private take(n: number): string {
    const head = this.buffer.slice(0, n);
    this.buffer = this.buffer.slice(n);
    const r = redactPii(head);
    this.redactions += r.redactions;
    return r.text;
  }
}

/** Normalised words of a text, for phrase matching that ignores case and punctuation. */
function words(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

/**
 * Word runs (8 words, sliding) of the system prompt's lines: an answer that contains one repeats the
 * prompt. Derived from the real prompt, so the check follows it when the prompt changes.
 */
export function promptFingerprints(systemPrompt: string, runLength = 8): Set<string> {
  const runs = new Set<string>();
  for (const line of systemPrompt.split('\n')) {
    const w = words(line);
    for (let i = 0; i + runLength <= w.length; i++) runs.add(w.slice(i, i + runLength).join(' '));
  }
  return runs;
}

/** Policy check on a whole answer: it must not repeat the system prompt, show context markup or destructive SQL. */
export function outputPolicyFindings(answer: string, fingerprints: Set<string>, runLength = 8): string[] {
  const findings: string[] = [];
  const w = words(answer);
  let leaked = /<\/?context>/i.test(answer);
  for (let i = 0; !leaked && i + runLength <= w.length; i++) leaked = fingerprints.has(w.slice(i, i + runLength).join(' '));
  if (leaked) findings.push('prompt-leak');
  if (/\b(drop|truncate)\s+table\b/i.test(answer)) findings.push('destructive-sql');
  return findings;
}

/** Names of the tenant's denied topics the message touches (whole-phrase, case-insensitive). */
export function deniedTopicFindings(message: string, topics: { name: string; phrases: string[] }[]): string[] {
  if (topics.length === 0) return [];
  const text = ` ${words(message).join(' ')} `;
  return topics.filter((t) => t.phrases.some((p) => text.includes(` ${words(p).join(' ')} `))).map((t) => t.name);
}
