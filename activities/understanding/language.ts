// The message's language, from stopwords and scripts.
import { cleanText, normalize } from './text.ts';

const LANGUAGE_WORDS: Record<string, string> = {
  en: 'the and is are what how my our you your of to in for with did we were was last this show me many much where when which can do does i it please hi hello thanks thank sales orders revenue order month week year',
  de: 'der die das und ist nicht ich wie was wo mein meine unsere wir mit für ein eine auf den dem des zu von bitte danke hallo letzten letzte umsatz bestellung versand können kann sind wann',
  fr: 'le la les et est je vous nous mon ma mes des du une un pour avec où quel quelle comment combien merci bonjour commande ventes mois dernier dernière livraison pas ce qui sont',
  es: 'el la los las y es que de mi mis por para con una un dónde donde cómo cuánto cuántos gracias hola pedido ventas mes pasado envío está qué nuestro nuestras son',
  it: 'il lo la gli le e è che di mio mia per con una un dove come quanto quanti grazie ciao ordine vendite mese scorso spedizione sono non',
  nl: 'de het een en is wat hoe waar mijn onze wij we met voor van niet ik bedankt dank hallo bestelling verkoop vorige maand verzending zijn',
  pt: 'o a os as e é que de meu minha por para com uma um onde como quanto quantos obrigado obrigada olá pedido vendas mês passado envio não está nosso',
};
const LANGUAGE_SETS = Object.entries(LANGUAGE_WORDS).map(([lang, words]) => [lang, new Set(words.split(' '))] as const);
const LANGUAGE_CHARS: [string, RegExp][] = [
  ['de', /[ßäöü]/g],
  ['es', /[ñ¿¡]/g],
  ['pt', /[ãõç]/g],
  ['fr', /[èêëàâçîïôûù]/g],
  ['it', /[èàìòù]/g],
];
const KANA = /[\p{Script=Hiragana}\p{Script=Katakana}]/u;
const SCRIPTS: [string, RegExp][] = [
  ['ja', /[\p{Script=Hiragana}\p{Script=Katakana}]/gu],
  ['ko', /\p{Script=Hangul}/gu],
  ['zh', /\p{Script=Han}/gu],
  ['ru', /\p{Script=Cyrillic}/gu],
  ['ar', /\p{Script=Arabic}/gu],
  ['he', /\p{Script=Hebrew}/gu],
  ['el', /\p{Script=Greek}/gu],
  ['th', /\p{Script=Thai}/gu],
  ['hi', /\p{Script=Devanagari}/gu],
];

/** ISO 639-1 code of the message's language ('en','de','fr','es','it','nl','pt','ja','zh','ko','ru','ar', … or 'und'); stopword/script heuristics. */
export function detectLanguage(text: string): string {
  try {
    const original = cleanText(text);
    const latin = original.match(/\p{Script=Latin}/gu)?.length ?? 0;
    let script: { lang: string; count: number } | undefined;
    for (const [lang, re] of SCRIPTS) {
      const count = original.match(re)?.length ?? 0;
      if (count > (script?.count ?? 0)) script = { lang, count };
    }
    if (script && script.count >= latin) {
      // Kana anywhere means Japanese, even when kanji (Han) outnumber it.
      if (script.lang === 'zh' && KANA.test(original)) return 'ja';
      if (script.lang === 'ru' && /[іїєґ]/i.test(original)) return 'uk';
      return script.lang;
    }
    const words = normalize(original).split(/[^\p{L}']+/u).filter(Boolean);
    let best = { lang: 'und', score: 0 };
    for (const [lang, set] of LANGUAGE_SETS) {
      let score = words.reduce((n, w) => n + (set.has(w) ? 1 : 0), 0);
      const chars = LANGUAGE_CHARS.find(([l]) => l === lang)?.[1];
      if (chars) score += Math.min(3, original.toLowerCase().match(chars)?.length ?? 0) * 0.5;
      if (score > best.score) best = { lang, score };
    }
    return best.score >= 1 ? best.lang : 'und';
  } catch {
    return 'und';
  }
}
