/** Splits a cached answer into word-sized pieces so it streams like a generated one. */
export function chunkAnswer(answer: string, wordsPerChunk = 4): string[] {
  const words = answer.match(/\S+\s*/g) ?? [];
  const chunks: string[] = [];
  for (let i = 0; i < words.length; i += wordsPerChunk) chunks.push(words.slice(i, i + wordsPerChunk).join(''));
  return chunks;
}
