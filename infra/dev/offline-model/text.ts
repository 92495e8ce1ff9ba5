// How the offline model counts and cuts its answers: tokens estimated as characters ÷ 4, word-sized stream
// pieces, an answer cut at max_tokens.

/** Approximate token count, used for every number the server reports. */
export function tokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Word-sized pieces that keep their whitespace, so the deltas concatenate back to the answer. */
export function pieces(text: string): string[] {
  const lead = text.match(/^\s+/)?.[0] ?? '';
  const words = text.match(/\S+\s*/g) ?? [];
  if (lead && words.length) words[0] = lead + words[0];
  return words;
}

/** The answer cut at `maxTokens`, as a model hitting its output limit would. */
export function limitAnswer(answer: string, maxTokens: number | undefined): { parts: string[]; truncated: boolean } {
  const all = pieces(answer);
  if (maxTokens === undefined || tokens(answer) <= maxTokens) return { parts: all, truncated: false };
  const parts: string[] = [];
  let text = '';
  for (const p of all) {
    if (tokens(text + p) > maxTokens) break;
    parts.push(p);
    text += p;
  }
  return { parts, truncated: true };
}
