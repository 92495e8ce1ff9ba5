// Documents into retrievable chunks: by paragraph, short paragraphs merged with the next, long ones cut at
// sentence ends, so each chunk is one coherent piece of policy of a few sentences.

/** One chunk of a document, in order. */
export interface Chunk {
  ordinal: number;
  body: string;
}

const MIN_CHARS = 200;
const MAX_CHARS = 900;

/** Splits a document body into chunks of roughly MIN_CHARS..MAX_CHARS characters. */
export function chunkDocument(body: string): Chunk[] {
  const paragraphs = body
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
  const pieces: string[] = [];
  for (const p of paragraphs) {
    if (p.length <= MAX_CHARS) {
      pieces.push(p);
      continue;
    }
    let current = '';
    for (const sentence of p.split(/(?<=[.!?])\s+/)) {
      if (current && current.length + sentence.length + 1 > MAX_CHARS) {
        pieces.push(current);
        current = '';
      }
      current = current ? `${current} ${sentence}` : sentence;
    }
    if (current) pieces.push(current);
  }
  const merged: string[] = [];
  for (const piece of pieces) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.length < MIN_CHARS && last.length + piece.length + 1 <= MAX_CHARS) merged[merged.length - 1] = `${last} ${piece}`;
    else merged.push(piece);
  }
  return merged.map((text, ordinal) => ({ ordinal, body: text }));
}
