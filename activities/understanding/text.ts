// Text preparation for the understanding rules: cleaning, normalising, number words, and the masked
// working copy each extraction consumes so that no phrase counts twice.
import { MAX_CHARS, WORD_NUMBERS } from './lexicon.ts';

// Text preparation

/** The analysed part of a message: capped, control and zero-width characters turned into spaces. */
export function cleanText(text: unknown): string {
  if (typeof text !== 'string') return '';
  const capped = text.slice(0, MAX_CHARS);
  let out = '';
  for (let i = 0; i < capped.length; i++) {
    const c = capped.charCodeAt(i);
    const invisible = c < 32 || (c >= 127 && c < 160) || (c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) || c === 0xfeff;
    out += invisible ? ' ' : capped[i];
  }
  return out;
}

/** Lower case, straight quotes, only the punctuation the patterns use, single spaces. */
export function normalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[’‘`´]/g, "'")
    .replace(/[–—]/g, '-')
    .replace(/[^\p{L}\p{N}\s#&/.\-'%$€£,:+]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A text whose matched spans are blanked out (same length, so indexes stay valid), so no phrase counts twice. */
export class Masked {
  text: string;
  constructor(text: string) {
    this.text = text;
  }
  /** Runs `re` (global) and masks each match `take` accepts, in one pass (thousands of "#1" stay linear). */
  each(re: RegExp, take: (m: RegExpExecArray) => boolean): void {
    const parts: string[] = [];
    let last = 0;
    for (const m of this.text.matchAll(re)) {
      if (!take(m)) continue;
      parts.push(this.text.slice(last, m.index), ' '.repeat(m[0].length));
      last = m.index + m[0].length;
    }
    if (parts.length) this.text = parts.join('') + this.text.slice(last);
  }
}

export function toNumber(word: string | undefined): number | undefined {
  if (word === undefined) return undefined;
  const n = /^\d+$/.test(word) ? Number(word) : WORD_NUMBERS[word];
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}
