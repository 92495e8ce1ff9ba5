/** Splits a cached answer into word-sized pieces so it streams like a generated one. */
export function chunkAnswer(answer: string, wordsPerChunk = 4): string[] {
  const words = answer.match(/\S+\s*/g) ?? [];
  const chunks: string[] = [];
  for (let i = 0; i < words.length; i += wordsPerChunk) chunks.push(words.slice(i, i + wordsPerChunk).join(''));
  return chunks;
}

/** The answer's chunks as token events, each saying where it starts in the answer (`at`). */
export function answerTokens(answer: string): { type: 'token'; data: { text: string; at: number } }[] {
  let at = 0;
  return chunkAnswer(answer).map((text) => {
    const token = { type: 'token' as const, data: { text, at } };
    at += text.length;
    return token;
  });
}
