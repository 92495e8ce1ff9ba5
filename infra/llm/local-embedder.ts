// A deterministic, dependency-free text embedder for the offline model: no weights can be downloaded
// here, and a semantic cache of shop questions needs mostly one thing from an embedder — paraphrases of
// the same question landing close together. So instead of learning meaning, this canonicalises it: a
// small e-commerce lexicon folds synonyms ("sales", "turnover", "how much did we make" → revenue),
// question filler is dropped, and what is left is feature-hashed (signed) into 256 dimensions.
// Numbers, ids and time ranges stay features, so "last week" and "last month" differ; the cache's slot
// signature is what finally tells near misses apart. It is NOT a language model and says so in its name.

/** Size of every vector `embedText` returns. */
export const LOCAL_EMBEDDING_DIMENSIONS = 256;

/** Model name the offline embeddings endpoint reports. */
export const LOCAL_EMBEDDING_MODEL = 'offline-hash-embedder-v1';

const MAX_CHARS = 8000;
const BIGRAM_WEIGHT = 0.4;
/** Total weight of one token's character n-grams, relative to the token itself (1.0). */
const CHARGRAM_WEIGHT = 0.5;
/** Marks a token the phrase rules already canonicalised; the tokenizer's alphabet cannot produce it. */
const CANON = '_';

// ---- lexicon

/** Multi-word phrases → canonical tokens ('' drops the phrase). Matched longest first, on whole words. */
const PHRASES: Record<string, string> = {
  // time ranges: one token each, so a different range is a different feature
  'week before last': 'weekbeforelast',
  'the week before last': 'weekbeforelast',
  '2 weeks ago': 'weekbeforelast',
  'last week': 'lastweek',
  'past week': 'lastweek',
  'previous week': 'lastweek',
  'prior week': 'lastweek',
  'this week': 'thisweek',
  'current week': 'thisweek',
  'week to date': 'thisweek',
  'last month': 'lastmonth',
  'past month': 'lastmonth',
  'previous month': 'lastmonth',
  'prior month': 'lastmonth',
  'this month': 'thismonth',
  'current month': 'thismonth',
  'month to date': 'thismonth',
  'last quarter': 'lastquarter',
  'past quarter': 'lastquarter',
  'previous quarter': 'lastquarter',
  'prior quarter': 'lastquarter',
  'this quarter': 'thisquarter',
  'current quarter': 'thisquarter',
  'quarter to date': 'thisquarter',
  'last year': 'lastyear',
  'past year': 'lastyear',
  'previous year': 'lastyear',
  'prior year': 'lastyear',
  'this year': 'thisyear',
  'current year': 'thisyear',
  'year to date': 'thisyear',
  'in may': 'may',
  'over time': 'trend',
  'so far': '',
  // metrics
  'average order value': 'aov',
  'average order size': 'aov',
  'average order amount': 'aov',
  'avg order value': 'aov',
  'average basket size': 'aov',
  'average basket value': 'aov',
  'average basket': 'aov',
  'basket size': 'aov',
  'average cart value': 'aov',
  'average cart size': 'aov',
  'average spend per order': 'aov',
  'average amount per order': 'aov',
  'units sold': 'units',
  'items sold': 'units',
  'products sold': 'units',
  'pieces sold': 'units',
  'quantity sold': 'units',
  'volume sold': 'units',
  'unit sales': 'units',
  'sales volume': 'units',
  'number of units': 'units',
  'customer lifetime value': 'ltv',
  'lifetime value': 'ltv',
  'conversion rate': 'conversion',
  'first time': 'new',
  'sales channel': 'channel',
  'sales channels': 'channel',
  'sales tax': 'tax',
  'on sale': 'discount',
  'sale item': 'discount product',
  'sale items': 'discount product',
  'promo code': 'discount',
  'promo codes': 'discount',
  'gift card': 'giftcard',
  'gift cards': 'giftcard',
  'gift wrap': 'giftwrap',
  'gift wrapping': 'giftwrap',
  'abandoned cart': 'abandoned cart',
  'abandoned carts': 'abandoned cart',
  'shopping cart': 'cart',
  'cart abandonment': 'abandoned cart',
  // rankings
  'best selling': 'top',
  'top selling': 'top',
  'highest selling': 'top',
  'best seller': 'top',
  'best sellers': 'top',
  'top seller': 'top',
  'top sellers': 'top',
  'most popular': 'top',
  'most sold': 'top',
  'top performing': 'top',
  'best performing': 'top',
  'top grossing': 'top',
  'highest grossing': 'top',
  'worst selling': 'bottom',
  'lowest selling': 'bottom',
  'least popular': 'bottom',
  'least sold': 'bottom',
  'slowest selling': 'bottom',
  'slow moving': 'bottom',
  'worst performing': 'bottom',
  // inventory
  'out of stock': 'outofstock',
  'sold out': 'outofstock',
  'in stock': 'inventory',
  'stock level': 'inventory',
  'stock levels': 'inventory',
  // breakdowns: the dimension word carries the meaning
  'broken down by': '',
  'break down': '',
  'breakdown of': '',
  'split by': '',
  'grouped by': '',
  'group by': '',
  'for each': '',
  'product category': 'category',
  'product categories': 'category',
  'product type': 'category',
  'product types': 'category',
  // channels
  'mobile app': 'mobile',
  'the app': 'mobile',
  'online store': 'web',
  'online shop': 'web',
  'web shop': 'web',
  'e commerce': 'web',
  'in store': 'store',
  'physical store': 'store',
  'physical stores': 'store',
  'retail store': 'store',
  'retail stores': 'store',
  'brick and mortar': 'store',
  'point of sale': 'store',
  // regions
  'asia pacific': 'apac',
  'north america': 'namerica',
  'latin america': 'latam',
  'south america': 'latam',
  'united states': 'usa',
  'united kingdom': 'uk',
  'great britain': 'uk',
  // policies and support
  'money back': 'returns',
  'send back': 'returns',
  'send it back': 'returns',
  'how long': 'time',
  'personal data': 'privacy',
  'data protection': 'privacy',
  'third parties': 'privacy',
  'third party': 'privacy',
  'payment methods': 'payment',
  'payment options': 'payment',
  'credit card': 'payment',
  'credit cards': 'payment',
  'apple pay': 'payment',
  'loyalty program': 'loyalty',
  'loyalty programme': 'loyalty',
  // small talk
  'good morning': 'hello',
  'good afternoon': 'hello',
  'good evening': 'hello',
  'good day': 'hello',
  'thank you': 'thanks',
  'thank u': 'thanks',
  'much appreciated': 'thanks',
  'appreciate it': 'thanks',
  'see you': 'bye',
  'see ya': 'bye',
  'good bye': 'bye',
  'have a good day': 'bye',
  'have a nice day': 'bye',
  'how are you': 'howareyou',
  'how are you doing': 'howareyou',
  'how is it going': 'howareyou',
  'how are things': 'howareyou',
  'who are you': 'identity',
  'what are you': 'identity',
  'are you a bot': 'identity',
  'are you human': 'identity',
  'are you a robot': 'identity',
  'what can you do': 'capabilities',
  'what can you help': 'capabilities',
  'what can you help with': 'capabilities',
  'what can you help me with': 'capabilities',
  'how can you help': 'capabilities',
  'how can you help me': 'capabilities',
  'what do you do': 'capabilities',
  'what are you able to do': 'capabilities',
  'what can i ask': 'capabilities',
};

/** Regex rules that need captures or lookahead; run before PHRASES. */
const PATTERNS: [RegExp, string][] = [
  // "last 30 days" ≠ "last month": a rolling range is its own feature, the number included.
  [/\b(?:last|past|previous|prior) (\d+) (day|week|month|quarter|year)s?\b/g, ` ${CANON}last$1$2 `],
  [/\bhow many (?:units |items |products |pieces )?(?:did|have|has|do) (?:we |you |they |i )?(?:sell|sold)\b/g, ` ${CANON}units `],
  [/\bhow much (?:money )?(?:did|have|has|do|does) (?:we |you |they |i |it |the \w+ )?(?:make|made|earn|earned|bring in|brought in|take in|took in|generate|generated)\b/g, ` ${CANON}revenue `],
  // "how much is delivery?" asks a price; "how much revenue …" never reaches here with is/are.
  [/\bhow much (?:is|are|will|would)\b/g, ` ${CANON}cost `],
  [/\b(?:returning|repeat|recurring|loyal) (?:customers?|buyers?|shoppers?|clients?)\b/g, ` ${CANON}repeat ${CANON}customers `],
  // "where is my order" is a status question; "where do you ship" is not.
  [/\bwhere(?= (?:is |are )?(?:my |our |the )?(?:order|package|parcel|shipment)s?\b)/g, ` ${CANON}status `],
];

/** Single words → canonical token; '' drops the word (question filler, breakdown glue). */
const WORDS: Record<string, string> = {};
function words(canonical: string, list: string): void {
  for (const w of list.split(' ')) WORDS[w] = canonical;
}
words('revenue', 'revenue revenues sales sale turnover income earnings earning earned earn gmv takings money proceeds sell sold selling sells spend spent spending');
words('orders', 'order orders ordered buy buys buying bought purchase purchases purchased transaction transactions package packages parcel parcels');
words('units', 'unit units quantity quantities qty pieces');
words('product', 'product products item items sku skus article articles merchandise goods listing listings');
words('customers', 'customer customers buyer buyers shopper shoppers client clients people user users consumer consumers purchaser purchasers');
words('aov', 'aov');
words('ltv', 'ltv clv');
words('rating', 'rating ratings rated review reviews stars');
words('returns', 'return returns returned returning refund refunds refunded refunding');
words('exchange', 'exchange exchanges exchanged');
words('cancellations', 'cancel cancels cancelled canceled cancellation cancellations cancelling canceling');
words('top', 'top best highest biggest largest most leading greatest');
words('bottom', 'bottom worst lowest least fewest smallest weakest');
words('category', 'category categories department departments');
words('region', 'region regions regional area areas geography geo market markets territory territories');
words('country', 'country countries nation nations');
words('channel', 'channel channels');
words('segment', 'segment segments tier tiers');
words('day', 'day days daily');
words('week', 'week weeks weekly');
words('month', 'month months monthly');
words('quarter', 'quarter quarters quarterly');
words('year', 'year years yearly annual annually');
words('thisweek', 'wtd');
words('thismonth', 'mtd');
words('thisquarter', 'qtd');
words('thisyear', 'ytd');
words('shipping', 'ship ships shipped shipping shipment shipments delivery deliveries deliver delivers delivered dispatch dispatched postage courier freight');
words('international', 'international internationally abroad overseas worldwide');
words('warranty', 'warranty warranties guarantee guarantees guaranteed');
words('payment', 'pay paying paid payment payments paypal klarna');
words('loyalty', 'loyalty rewards reward points');
words('privacy', 'privacy gdpr');
words('policy', 'policy policies rules rule terms conditions');
words('cost', 'cost costs fee fees charge charges price prices pricing priced');
words('time', 'time times duration long');
words('eta', 'arrive arrives arrival eta');
words('status', 'status track tracking whereabouts');
words('trend', 'trend trends trending growth grow growing grew change changed changes evolve evolved evolution');
words('compare', 'compare compared comparing comparison versus vs against');
words('discount', 'discount discounts discounted coupon coupons promo promos promotion promotions voucher vouchers');
words('profit', 'profit profits profitability');
words('margin', 'margin margins');
words('traffic', 'traffic visits visitors sessions pageviews');
words('conversion', 'conversion conversions convert converting converted');
words('inventory', 'inventory stock stocks');
words('rate', 'rate rates percentage percent share proportion ratio');
words('average', 'average avg mean');
words('chart', 'chart charts graph graphs plot visualize visualise visualization');
words('apparel', 'apparel clothing clothes garments fashion');
words('electronics', 'electronics electronic gadgets devices');
words('footwear', 'footwear shoes shoe sneakers');
words('beauty', 'beauty cosmetics makeup');
words('jewelry', 'jewelry jewellery');
words('mobile', 'mobile app apps ios android');
words('web', 'web online website websites webshop site ecommerce');
words('marketplace', 'marketplace marketplaces amazon');
words('europe', 'europe european eu');
words('apac', 'apac asia');
words('latam', 'latam');
words('usa', 'usa america');
words('uk', 'uk britain england');
words('hello', 'hi hello hey hiya howdy greetings yo');
words('thanks', 'thanks thx ty cheers thankyou');
words('bye', 'bye goodbye cya');
words('help', 'help');
words('damaged', 'damaged broken defective faulty');
words('late', 'late delayed overdue');
words('not', "not no never without except excluding");
// Names of months stay months; the abbreviations fold in.
for (const [short, long] of [
  ['jan', 'january'], ['feb', 'february'], ['mar', 'march'], ['apr', 'april'], ['jun', 'june'], ['jul', 'july'],
  ['aug', 'august'], ['sep', 'september'], ['sept', 'september'], ['oct', 'october'], ['nov', 'november'], ['dec', 'december'],
] as const) {
  WORDS[short] = long;
  WORDS[long] = long;
}
words(
  '',
  // question filler, pronouns, auxiliaries, politeness, and verbs that only carry "tell me"
  'a an the and or but if of to in on at for with about from into over under as than then so ' +
    'what whats which who whom whose when where how much many did do does done doing is are was were be been being am ' +
    'have has had having will would could can should shall may might must ' +
    'i me my mine we our ours us you your yours it its they them their this that these those there here ' +
    'please pls plz kindly show tell give gave make made making get got getting let lets know want need like see look ' +
    'list display find check pull fetch report provide share bring place placed generate generated come came ' +
    'total overall sum amount number count figure figures numbers stats statistics data metrics value values ' +
    'by per each every across breakdown broken split grouped ' +
    'just also really currently now right quick quickly exactly roughly approximately around ' +
    'shop store stores business company well ok okay um uh hmm lot lots so much thing things all any some ' +
    'far yet via through work works working happen happens handle handled process offer offered accept accepted ' +
    'take takes taken took go goes going went',
);

/** Tokens with a weight other than 1: words every shop question shares carry less. */
const WEIGHTS: Record<string, number> = { product: 0.6, policy: 0.35, customers: 0.8, orders: 0.9, rate: 0.7, average: 0.7 };

const NUMBER_WORDS: Record<string, string> = {
  zero: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9', ten: '10',
  eleven: '11', twelve: '12', fifteen: '15', twenty: '20', thirty: '30', fifty: '50', hundred: '100', dozen: '12',
};

/** Words close to a lexicon word that must keep their own meaning ("shopping" is not "shipping"). */
const PROTECTED = new Set('shopping shipper stores stories scales shorts shirts shirt short border borders prices'.split(' '));

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
