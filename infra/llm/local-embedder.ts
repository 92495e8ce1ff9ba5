// A deterministic, dependency-free text embedder: the offline model's embeddings, and the product's
// embedder when no embeddings provider is configured (only an Anthropic key). No weights can be downloaded
// here, and a semantic cache of shop questions needs mostly one thing from an embedder — paraphrases of
// the same question landing close together. So instead of learning meaning, this canonicalises it: a
// small e-commerce lexicon folds synonyms ("sales", "turnover", "how much did we make" → revenue),
// question filler is dropped, and what is left is feature-hashed (signed) into 256 dimensions.
// Numbers, ids and time ranges stay features, so "last week" and "last month" differ; the cache's slot
// signature is what finally tells near misses apart. It is NOT a language model and says so in its name.
import { CANON, NUMBER_WORDS, PATTERNS, PHRASES, PROTECTED, WEIGHTS, WORDS } from './local-embedder-lexicon.ts';

/** Size of every vector `embedText` returns. */
export const LOCAL_EMBEDDING_DIMENSIONS = 256;

/** Model name the offline embeddings endpoint reports. */
export const LOCAL_EMBEDDING_MODEL = 'offline-hash-embedder-v1';

const MAX_CHARS = 8000;
const BIGRAM_WEIGHT = 0.4;
/** Total weight of one token's character n-grams, relative to the token itself (1.0). */
const CHARGRAM_WEIGHT = 0.5;

// ---- tokenising

const phraseRegex = new RegExp(
  `\\b(?:${Object.keys(PHRASES)
    .sort((a, b) => b.length - a.length)
    .map((p) => p.replace(/ /g, '\\s+'))
    .join('|')})\\b`,
  'g',
);

/** One-edit neighbours of the lexicon (symmetric deletions), for typos such as "revnue" or "shiping". */
const FUZZY = new Map<string, string | null>();
function addFuzzy(key: string, canonical: string): void {
  const prev = FUZZY.get(key);
  // Two different meanings one edit away: too ambiguous to guess.
  if (prev === undefined) FUZZY.set(key, canonical);
  else if (prev !== canonical) FUZZY.set(key, null);
}
for (const [word, canonical] of Object.entries(WORDS)) {
  if (word.length < 5 || canonical === '') continue;
  addFuzzy(word, canonical);
  for (let i = 0; i < word.length; i++) addFuzzy(word.slice(0, i) + word.slice(i + 1), canonical);
}

function fuzzy(token: string): string | undefined {
  if (token.length < 5 || PROTECTED.has(token) || /\d/.test(token)) return undefined;
  const direct = FUZZY.get(token);
  if (direct) return direct;
  for (let i = 0; i < token.length; i++) {
    const del = token.slice(0, i) + token.slice(i + 1);
    const hit = WORDS[del] || FUZZY.get(del);
    if (hit) return hit;
  }
  return undefined;
}

/** A light stemmer: plurals and -ing/-ed, enough to meet the lexicon or the same word inflected. */
function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 5 && /(?:ing|ed)$/.test(word)) {
    const s = word.replace(/(?:ing|ed)$/, '');
    if (/[aeiouy]/.test(s) && s.length >= 3) return /([b-df-hj-np-tv-z])\1$/.test(s) ? s.slice(0, -1) : s;
  }
  if (word.length > 3 && word.endsWith('s') && !/(?:ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

interface Token {
  text: string;
  /** Canonical (from the lexicon): its spelling carries no extra signal, so no character n-grams. */
  known: boolean;
}

function normalise(text: string): string {
  let s = text.slice(0, MAX_CHARS).normalize('NFKC').toLowerCase();
  s = s
    .replace(/[\u2018\u2019\u02bc`\u00b4]/g, "'")
    .replace(/\bcan't\b/g, 'can not')
    .replace(/\bwon't\b/g, 'will not')
    .replace(/n't\b/g, ' not')
    .replace(/'(?:s|re|m|ve|ll|d)\b/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ');
  s = ` ${s
    .split(' ')
    .map((w) => NUMBER_WORDS[w] ?? w)
    .join(' ')} `;
  for (const [re, to] of PATTERNS) s = s.replace(re, to);
  return s.replace(phraseRegex, (m) => {
    const to = PHRASES[m.replace(/\s+/g, ' ')] ?? '';
    return to ? ` ${to.split(' ').map((t) => CANON + t).join(' ')} ` : ' ';
  });
}

function tokenize(text: string): Token[] {
  const raw = normalise(text).split(/\s+/).filter(Boolean);
  const out: Token[] = [];
  for (const w of raw) {
    if (w.startsWith(CANON)) {
      out.push({ text: w.slice(1), known: true });
      continue;
    }
    const direct = WORDS[w];
    if (direct !== undefined) {
      if (direct) out.push({ text: direct, known: true });
      continue;
    }
    if (/^\d+$/.test(w)) {
      out.push({ text: String(Number(w.slice(0, 15))), known: true });
      continue;
    }
    const s = stem(w);
    const viaStem = WORDS[s];
    if (viaStem !== undefined) {
      if (viaStem) out.push({ text: viaStem, known: true });
      continue;
    }
    const typo = fuzzy(w);
    if (typo) out.push({ text: typo, known: true });
    else out.push({ text: s, known: false });
  }
  // Only filler ("how are you?" with the phrase missed, "and you?"): the filler is all there is to go on.
  if (!out.length) for (const w of raw) if (!w.startsWith(CANON)) out.push({ text: `~${w}`, known: true });
  return out;
}

// ---- hashing

/** FNV-1a 32-bit with a murmur3 finaliser, so low bits (the bucket) and bit 8 (the sign) are well mixed. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function add(v: Float64Array, feature: string, weight: number): void {
  const h = hash(feature);
  const i = h % LOCAL_EMBEDDING_DIMENSIONS;
  v[i] = (v[i] ?? 0) + (h & 0x100 ? -weight : weight);
}

function fallbackVector(): number[] {
  const v = new Array<number>(LOCAL_EMBEDDING_DIMENSIONS).fill(0);
  v[0] = 1;
  return v;
}

/** Embeds a text into a unit-length 256-dim vector; deterministic, never throws (empty text → [1, 0, …]). */
export function embedText(text: string): number[] {
  try {
    const tokens = tokenize(typeof text === 'string' ? text : String(text ?? ''));
    if (!tokens.length) return fallbackVector();
    const v = new Float64Array(LOCAL_EMBEDDING_DIMENSIONS);
    const seen = new Set<string>();
    const weight = (t: string) => WEIGHTS[t] ?? 1;
    // A set, not a bag: "sales revenue" says revenue once, as its paraphrases do.
    for (const t of tokens) {
      if (seen.has(t.text)) continue;
      seen.add(t.text);
      add(v, `u:${t.text}`, weight(t.text));
      if (!t.known && t.text.length >= 4) {
        const padded = `<${t.text}>`;
        const n = padded.length - 2;
        const w = (CHARGRAM_WEIGHT * weight(t.text)) / Math.sqrt(n);
        for (let i = 0; i < n; i++) add(v, `c:${padded.slice(i, i + 3)}`, w);
      }
    }
    // Unordered adjacent pairs: some word-order signal, without punishing "last week's revenue".
    const pairs = new Set<string>();
    for (let i = 1; i < tokens.length; i++) {
      const a = tokens[i - 1]!.text;
      const b = tokens[i]!.text;
      if (a === b) continue;
      const key = a < b ? `${a}|${b}` : `${b}|${a}`;
      if (pairs.has(key)) continue;
      pairs.add(key);
      add(v, `b:${key}`, BIGRAM_WEIGHT * Math.sqrt(weight(a) * weight(b)));
    }
    let norm = 0;
    for (const x of v) norm += x * x;
    // Every feature cancelled out against another: vanishingly rare, but never return NaNs.
    if (!(norm > 1e-12)) return fallbackVector();
    const inv = 1 / Math.sqrt(norm);
    return Array.from(v, (x) => x * inv);
  } catch {
    return fallbackVector();
  }
}
