// Deterministic understanding: language, follow-up, slots, intent, complexity and the cache signature.
// The rules run when the model is late or down, and the offline model answers from them, so they must be
// pure (no clock: `today` comes in), total (never throw, any input) and cheap: every regex is linear —
// no nested quantifiers — and only the first MAX_CHARS characters of a message are looked at.
import type {
  CaptureResult,
  Complexity,
  DetectResult,
  Dimension,
  IntentOrUnknown,
  Metric,
  SessionContext,
  SlotEntities,
  SlotFilters,
  Slots,
  TimeRange,
  Topic,
} from '../../workflows/shared/understanding.ts';
import { CATEGORIES, CHANNELS, COUNTRIES_BY_REGION, ORDER_STATUSES, REGIONS, SEGMENTS } from '../../workflows/shared/shop-vocabulary.ts';

// Enough for any real question; a 4000-character paste gains nothing past this and costs regex time.
const MAX_CHARS = 2000;

// ---------------------------------------------------------------------------------------------------
// Filter values as stored in the demo schema, in a fixed order so equal meanings give equal slots.

const COUNTRIES = Object.values(COUNTRIES_BY_REGION).flat();
type FilterKey = keyof SlotFilters;
const FILTER_ORDER: Record<FilterKey, readonly string[]> = {
  region: REGIONS,
  country: COUNTRIES,
  channel: CHANNELS,
  segment: SEGMENTS,
  category: CATEGORIES,
  status: ORDER_STATUSES,
};
const FILTER_KEYS = Object.keys(FILTER_ORDER) as FilterKey[];

// ---------------------------------------------------------------------------------------------------
// Synonym tables. Each regex runs on the normalised text (lower case, punctuation but `#&/.-'%$,:` gone).

const WORD_NUMBERS: Record<string, number> = {
  one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12,
  thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19, twenty: 20,
  thirty: 30, forty: 40, fifty: 50, sixty: 60, ninety: 90, hundred: 100,
};
const NUM = `(?:\\d{1,4}|${Object.keys(WORD_NUMBERS).join('|')})`;

const MONTHS: Record<string, number> = {
  january: 1, jan: 1, february: 2, feb: 2, march: 3, mar: 3, april: 4, apr: 4, may: 5, june: 6, jun: 6, july: 7, jul: 7,
  august: 8, aug: 8, september: 9, sept: 9, sep: 9, october: 10, oct: 10, november: 11, nov: 11, december: 12, dec: 12,
};
const MONTH = `(?:${Object.keys(MONTHS).sort((a, b) => b.length - a.length).join('|')})`;
const ORDINAL = '(?:st|nd|rd|th)?';

interface MetricRule {
  re: RegExp;
  metric: Metric;
  /** Weak words ("orders", "customers") lose to any strong one: "revenue from delivered orders" is revenue. */
  strong: boolean;
}

// Specific phrases first: each match is masked, so "average order value" never also counts as "orders".
const METRIC_RULES: MetricRule[] = [
  { metric: 'aov', strong: true, re: /\b(?:average order (?:value|size)|avg\.? order value|aov|average (?:basket|cart)(?: size| value)?|basket size|average spend per order)\b/g },
  { metric: 'returns', strong: true, re: /\b(?:returns? rate|rate of returns|returned (?:orders?|items?|products?|units?)|number of (?:returns|refunds)|how many (?:returns|refunds)|returns? count|get returned|got returned|were returned)\b/g },
  { metric: 'cancellations', strong: true, re: /\b(?:cancell?ations?(?: rate)?|cancell?ed orders?|orders? (?:that )?(?:were |got |was |have been )?cancell?ed)\b/g },
  { metric: 'customers', strong: true, re: /\b(?:(?:how many|number of)(?: (?!orders|did|do|does|have|has|were|was|units|items)[a-z-]+){0,2} (?:customers|buyers|shoppers|clients)|customer count|(?:new|unique|active|distinct|repeat|returning|first-time) (?:customers|buyers|shoppers))\b/g },
  { metric: 'orders', strong: true, re: /\b(?:how many orders|number of orders|order count|order volume|orders count|how many purchases|number of purchases)\b/g },
  { metric: 'units', strong: true, re: /\b(?:units?(?: sold)?|items sold|products sold|pieces sold|quantity sold|sold units|how many (?:units|items|pieces|products)|how many [a-z]+(?: [a-z]+)? (?:did|have|were) (?:we )?(?:sell|sold))\b/g },
  { metric: 'revenue', strong: true, re: /\b(?:sales|revenues?|turnover|income|earnings|gmv|gross merchandise value|takings|earn(?:ed|s)?|how much (?:money )?(?:did|have|has|do) (?:[a-z]+ ){1,3}(?:sell|sold|make|made|earn|earned|bring in|generate)|(?:made|make|makes|earned|generated?|brings? in|brought in) (?:the )?(?:most |least |more |less )?(?:money|cash))\b/g },
  { metric: 'rating', strong: true, re: /\b(?:average rating|ratings?|rated|reviews?|review scores?|stars?|star rating|customer satisfaction|csat|scores?)\b/g },
  { metric: 'orders', strong: false, re: /(?<!\b(?:my|your) )\b(?:orders|purchases|transactions)\b/g },
  { metric: 'customers', strong: false, re: /\b(?:customers|buyers|shoppers|clients)\b/g },
];

// "returns"/"refunds" alone: the metric in an analytics question, the policy topic otherwise.
const BARE_RETURNS = /\b(?:returns|refunds)\b/g;

// Words that make "customers" a filter ("business customers") rather than the customers metric.
const CUSTOMER_QUALIFIERS = new Set([
  'business', 'b2b', 'b2c', 'consumer', 'corporate', 'enterprise', 'wholesale', 'retail', 'private', 'individual',
  'mobile', 'app', 'web', 'online', 'store', 'in-store', 'my', 'for', 'from', 'among', 'to', 'by', 'with', 'of',
]);

const TOPIC_RULES: [RegExp, Topic][] = [
  [/\b(?:returns? polic(?:y|ies)|refund polic(?:y|ies)|exchange polic(?:y|ies)|how (?:do|can|would) (?:i|we|you) return|can i (?:still )?return|return (?:a|an|my|the|this|these|those|it|them|items?|products?|something)\b|return window|return period|returns? process|returns? label|(?:get|receive|request) a refund|how (?:do|does) (?:returns|refunds) work|refund process|exchanges?|send (?:it|them|this) back)/g, 'returns'],
  [/\b(?:shipping|shipment options|ships? (?:to|internationally|abroad|overseas|worldwide)|do you (?:ship|deliver)|deliver(?:y|ed)? (?:to|abroad|internationally|times?|options?|costs?|fees?|charges?|speed)|delivery time|free delivery|express delivery|next[- ]day delivery|international delivery|postage|courier)\b/g, 'shipping'],
  [/\b(?:warrant(?:y|ies)|guarantee[sd]?|guaranty)\b/g, 'warranty'],
  [/\b(?:payments?|payment methods?|pay (?:with|by|via|using|in|on|later|over time)|how (?:can|do) i pay|paypal|credit cards?|debit cards?|instal{1,2}ments?|klarna|afterpay|apple pay|google pay|bank transfer|cash on delivery|buy now,? pay later|bnpl|visa|mastercard|amex|american express|billing)\b/g, 'payments'],
  [/\b(?:loyalty|rewards?(?: points| program(?:me)?)?|points|membership|vip|referral|cashback|store credit)\b/g, 'loyalty'],
  [/\b(?:privacy|personal (?:data|information|info|details)|my data|gdpr|ccpa|data protection|delete my (?:data|account|information)|cookies?|unsubscribe|opt[- ]out|third parties)\b/g, 'privacy'],
];

interface FilterRule {
  key: FilterKey;
  value: string;
  re: RegExp;
}

// Longer names before the words they contain ("latin america" before "america"): matches are masked.
const FILTER_RULES: FilterRule[] = [
  { key: 'region', value: 'Latin America', re: /\b(?:latin america|latin american|latam|south america|south american|central america)\b/g },
  { key: 'region', value: 'North America', re: /\b(?:north america|north american)\b/g },
  { key: 'region', value: 'Asia Pacific', re: /\b(?:asia[- ]pacific|apac|asia|asian|oceania)\b/g },
  { key: 'region', value: 'Europe', re: /\b(?:europe|european|eu)\b/g },
  { key: 'segment', value: 'business', re: /\b(?:b2b|business(?:es)?(?! days?| hours?)|corporate|enterprise|wholesale)\b/g },
  { key: 'segment', value: 'consumer', re: /\b(?:b2c|consumers?(?! electronics)|individuals?|private (?:customers|buyers)|retail (?:customers|buyers))\b/g },
  { key: 'channel', value: 'web', re: /\b(?:web ?shop|web ?store|online (?:store|shop)|websites?|web site|web|online|desktop|e-?commerce site)\b/g },
  { key: 'channel', value: 'mobile', re: /\b(?:mobile(?: app)?|apps?|smartphones?|iphone app|android app|ios app|phone app)\b/g },
  { key: 'channel', value: 'store', re: /\b(?:in[- ]store|in[- ]person|retail(?! price)|brick[- ]and[- ]mortar|physical (?:stores?|shops?)|offline|stores|store channel|store(?= (?:vs|versus|and|or|sales|orders|revenue|customers)\b))\b|(?<=\b(?:vs\.?|versus|and|or|,) )store\b/g },
  { key: 'category', value: 'Home & Kitchen', re: /\b(?:home ?(?:&|and) ?kitchen|kitchen(?:ware)?|home goods|homeware|housewares|household)\b/g },
  { key: 'category', value: 'Sports & Outdoors', re: /\b(?:sports? ?(?:&|and) ?outdoors?|sporting goods|sports equipment|sportswear|outdoors?|sports?|fitness)\b/g },
  { key: 'category', value: 'Electronics', re: /\b(?:consumer electronics|electronics?|gadgets?)\b/g },
  { key: 'category', value: 'Apparel', re: /\b(?:apparel|clothing|clothes|fashion|garments?)\b/g },
  { key: 'category', value: 'Beauty', re: /\b(?:beauty|cosmetics?|skin ?care|make-?up)\b/g },
  { key: 'category', value: 'Toys', re: /\btoys?\b/g },
  { key: 'category', value: 'Books', re: /\b(?:books?|e-?books?)\b/g },
  { key: 'category', value: 'Grocery', re: /\b(?:grocer(?:y|ies)|food|snacks?|beverages?)\b/g },
  { key: 'country', value: 'US', re: /\b(?:united states(?: of america)?|usa|u\.s\.a?\.?|america|american|the states)(?![a-z])/g },
  { key: 'country', value: 'CA', re: /\b(?:canada|canadian)\b/g },
  { key: 'country', value: 'GB', re: /\b(?:united kingdom|uk|u\.k\.|great britain|britain|british|england|scotland|wales)(?![a-z])/g },
  { key: 'country', value: 'DE', re: /\b(?:germany|german|deutschland)\b/g },
  { key: 'country', value: 'FR', re: /\b(?:france|french)\b/g },
  { key: 'country', value: 'ES', re: /\b(?:spain|spanish)\b/g },
  { key: 'country', value: 'IT', re: /\b(?:italy|italian)\b/g },
  { key: 'country', value: 'AU', re: /\b(?:australia|australian)\b/g },
  { key: 'country', value: 'JP', re: /\b(?:japan|japanese)\b/g },
  { key: 'country', value: 'IN', re: /\b(?:india|indian)\b/g },
  { key: 'country', value: 'SG', re: /\b(?:singapore|singaporean)\b/g },
  { key: 'country', value: 'NZ', re: /\b(?:new zealand|nz)\b/g },
  { key: 'country', value: 'MX', re: /\b(?:mexico|mexican)\b/g },
  { key: 'country', value: 'BR', re: /\b(?:brazil|brasil|brazilian)\b/g },
  { key: 'country', value: 'CO', re: /\b(?:colombia|colombian)\b/g },
  { key: 'country', value: 'CL', re: /\b(?:chile|chilean)\b/g },
];
// Upper-case ISO codes in the original text; IN/IT/CO are left out, they are too often plain words.
const COUNTRY_CODES = /(?<![A-Za-z])(US|USA|CA|GB|UK|DE|FR|ES|AU|JP|SG|NZ|MX|BR|CL)(?![A-Za-z])/g;

// A status filters orders only when it qualifies them ("delivered orders"); "has my order shipped" is tracking.
const STATUS_RE = /\b(placed|shipped|delivered|cancell?ed|returned)(?= (?:orders?|ones|items|purchases)\b)|\borders? (?:that (?:are|were|have been)|which (?:are|were)|were|was|have been|had been|got|with status|in status|still) (placed|shipped|delivered|cancell?ed|returned)\b|\bstatus (?:is |= ?|of )?(placed|shipped|delivered|cancell?ed|returned)\b/g;

const DIM_NOUN = '(product categor(?:y|ies)|categor(?:y|ies)|products?|items?|skus?|articles?|regions?|countr(?:y|ies)|markets?|sales channels?|channels?|customer segments?|segments?|order status(?:es)?|status(?:es)?|days?|weeks?|months?|quarters?|years?)';
const DIM_RULES: RegExp[] = [
  new RegExp(`\\b(?:by|per|for each|for every|each|every|across(?: all)?(?: the)?|split by|broken down by|break(?: it| that)? down by|breakdown by|grouped by|group by|sliced by)(?: the| all| each| a)? ${DIM_NOUN}\\b`, 'g'),
  new RegExp(`\\b${DIM_NOUN}[- ](?:breakdown|wise|level)\\b`, 'g'),
  new RegExp(`\\b(?:top|best|worst|bottom|highest|lowest|biggest|largest|leading|most popular|least popular|top[- ]selling|best[- ]selling|worst[- ]selling|best[- ]performing|worst[- ]performing)(?:[ -]${NUM})?(?:[ -](?:selling|performing|rated|grossing|earning))? ${DIM_NOUN}\\b`, 'g'),
  new RegExp(`\\b${NUM} (?:best|top|worst|bottom|most|least|highest|lowest)(?:[ -](?:selling|performing|rated|grossing|popular))? ${DIM_NOUN}\\b`, 'g'),
  new RegExp(`\\b(?:which|what)(?: ${NUM})? ${DIM_NOUN}\\b`, 'g'),
  /\b(daily|weekly|monthly|quarterly|yearly|annual|annually|day[- ]by[- ]day|week over week|month over month|quarter over quarter|year over year|yoy)\b/g,
];
const TREND_RE = /\b(?:trends?|trending|over time|evolution|(?:changed?|evolved?|developed?) over)\b/g;

const PLURAL_DIM = '(?:categories|products|items|skus|regions|countries|markets|channels|segments|customers|orders|days|weeks|months)';
// [regex, group of the ranking word (0: none), group of the number]
const LIMIT_RULES: [RegExp, number, number][] = [
  [new RegExp(`\\b(top|bottom|best|worst|highest|lowest|biggest|largest|smallest|leading|first)[ -](${NUM})\\b`, 'g'), 1, 2],
  [new RegExp(`\\b(${NUM}) (best|top|worst|bottom|most|least|highest|lowest|biggest|largest|smallest|fewest)\\b`, 'g'), 2, 1],
  [new RegExp(`\\b(?:which|what|the|show(?: me)?|list|give me) (${NUM}) ${PLURAL_DIM}\\b`, 'g'), 0, 1],
];
const DESC_WORDS = /\b(?:top|best|highest|most|biggest|largest|leading|greatest|strongest|best[- ]selling|top[- ]selling)\b/g;
const ASC_WORDS = /\b(?:bottom|worst|lowest|least|fewest|smallest|weakest|slowest|worst[- ]selling)\b/g;
const ASC_SET = new Set(['bottom', 'worst', 'lowest', 'least', 'fewest', 'smallest']);

const COMPLAINT_STRONG = /\b(?:broken|broke|damaged|defective|faulty|cracked|shattered|torn|ripped|smashed|wrong (?:item|product|size|colou?r|order|package|parcel|thing)|never (?:arrived|received|came|got|get|showed up|delivered)|still (?:hasn't|has not|haven't|have not|not|hasnt) (?:arrived|come|been delivered)|not (?:received|delivered) yet|scam|scammed|fraud|rip[- ]?off|unacceptable|complaint|complain(?:ing)?|refund (?:now|immediately|asap)|(?:want|demand|need) (?:a|my) refund|money back|(?:doesn't|doesnt|does not|isn't|is not|stopped|not) working|(?:doesn't|doesnt|does not) work|furious|outraged|disgusted|disgusting|worst (?:service|experience|shop|store|company|customer service))\b/g;
const COMPLAINT_WEAK = /\b(?:late|delayed|terrible|awful|horrible|angry|upset|disappointed|disappointing|unhappy|frustrated|frustrating|fed up|ridiculous|useless|missing|poor (?:quality|service)|still waiting|been waiting|waiting (?:for )?(?:weeks|ages|days|forever)|(?:hasn't|hasnt|has not|didn't|didnt|did not|haven't) (?:arrive|arrived|come|shown up)|not happy|very bad|bad (?:service|quality|experience))\b/g;
// The customer's own voice; "we/our" is the merchant asking about the shop's data.
const FIRST_PERSON = /\b(?:i|i'm|im|i've|i'd|me|my|mine)\b/;
// A question about the policy for a case is not a complaint: a conditional never ("what happens if my item
// arrives damaged?"), a general question only when the customer does not speak of their own goods.
const CONDITIONAL = /\b(?:polic(?:y|ies)|what (?:happens|if)|if (?:an?|the|my|it|i) |in case|suppose)\b/;
const GENERAL_QUESTION = /\b(?:do you|can i|how (?:do|can) i|is it possible|what is your|what's your)\b/;
const GENERAL_QUESTION_ALL = new RegExp(GENERAL_QUESTION.source, 'g');

const PURCHASE_RE = /\b(?:i(?:'d| would)? (?:want|like|love) to (?:buy|order|purchase|get)|buy(?:ing)? (?:a|an|the|this|that|some|it|one|two|\d+)\b|can i (?:buy|order)|(?<!\b(?:an|the|my|your|our|this|that|placed) )order (?:a|an|some|one|two)\b|add (?:it |this |that |them )?to (?:my |the )?(?:cart|basket)|(?:make|complete) (?:a|my|the) purchase|purchase (?:a|an|the|this|it)\b|do you (?:sell|carry|stock)|(?:in|out of|back in) stock|available to buy)/;
const CHART_RE = /\b(?:charts?|graphs?|plot(?:ted)?|visuali[sz]e|visuali[sz]ation|diagram|histogram|pie|bar chart|line chart)\b/;

const SMALL_TALK = /\b(?:hi+|hey+|hello|hallo|hola|bonjour|salut|ciao|ola|olá|yo|howdy|greetings|good (?:morning|afternoon|evening|night|day)|morning|thanks?|thank you|thx|ty|cheers|merci|danke|gracias|grazie|obrigad[oa]|bedankt|much appreciated|appreciate it|bye|goodbye|good ?bye|see (?:you|ya)|take care|have a (?:nice|good|great) (?:day|one|evening|weekend)|what (?:else )?can you do|what do you do|what can you help (?:me )?with|how can you help(?: me)?|what are you(?: able to do)?|who are you|who made you|how are you(?: doing)?|how's it going|are you (?:a |an )?(?:bot|robot|human|real|real person|ai)|nice to meet you|(?:what|how) about you|and you|you're (?:great|awesome|helpful|the best)|that's (?:all|great|helpful|perfect|it|everything)|helpful|great|perfect|awesome|cool|nice|ok(?:ay)?|got it|sounds good|help)\b/g;
const SMALL_TALK_FILLER = /\b(?:there|today|again|so|very|really|much|a|lot|lots|for|now|and|the|you|your|please|that|all|me|too|mate|guys|team|bot|assistant|everyone|folks)\b/g;
const GREETING_PREFIX = /^(?:hi+|hey+|hello|hallo|hola|bonjour|good (?:morning|afternoon|evening)|thanks?|thank you|ok(?:ay)?)\b/;

const OUT_OF_SCOPE = /\b(?:weather|temperature outside|will it (?:rain|snow)|jokes?|poems?|haiku|limerick|lyrics|(?:write|tell) (?:me )?(?:a |an )?(?:story|essay|song)|python|javascript|typescript|java|c\+\+|golang|html|css|regex|linked list|algorithm|(?:write|fix|debug) (?:me )?(?:a |an |some |my )?(?:code|function|script|program)|politics?|political|elections?|vote|president|prime minister|democrats?|republicans?|who won|final score|scores? of the|champions league|world cup|super bowl|nba|nfl|premier league|olympics|recipes?|how (?:do i|to) (?:cook|bake)|stock price|share price|stock market|shares of|bitcoin price|crypto(?:currency)?|capital of|meaning of life|translate|movies?|horoscope|homework)\b/;

const ORDER_TRACKING = /\b(?:where(?:'s| is| are)? (?:my|our|the) (?:order|package|parcel|shipment|delivery|stuff|items?)|track(?:ing)? (?:my |the |an |a |this )?(?:order|package|parcel|shipment|delivery)|tracking (?:number|code|link|info|information|status)|order status|status of (?:my |the |an |this )?(?:order|package|parcel|shipment)|(?:has|have|did|is|was|were) (?:my|the) (?:order|package|parcel|shipment|delivery|items?)s? (?:been |already |just )?(?:shipped|delivered|arrived|sent|dispatched|ship|arrive|left|out for delivery|on (?:its|the) way)|when (?:will|does|is|should|can i expect) (?:my |the )?(?:order|package|parcel|shipment|delivery|items?|it|they) (?:arrive|ship|be (?:delivered|shipped|here)|get here|come|expected|due)|(?:check|look up|lookup) (?:on )?(?:my |the |an |this )?order|where is it|where are they|estimated delivery|eta|out for delivery|has it (?:shipped|arrived|been (?:shipped|delivered|sent)))\b/;
const MY_ORDER = /\bmy (?:order|package|parcel|shipment|delivery|purchase)s?\b/;
const POLICY_WORDS = /\b(?:polic(?:y|ies)|what happens if|terms (?:and|&) conditions|opening hours|business hours|contact (?:you|support|customer service)|phone number|how do i (?:contact|reach)|gift (?:wrap|wrapping|cards?)|price match)/;
const ANALYTICS_PHRASING = /\b(?:how many|how much|total|sum|average|compare|comparison|breakdown|break down|trend|growth|increase|decrease|performance|kpis?|report|dashboard|show me|what (?:were|was|are|is) (?:our|the)|did we)\b/;

const FOLLOW_UP_START = /^(?:and|&|plus|also|but|or|what about|how about|what of|same (?:for|with|but|by|in|thing|question)|the same (?:for|but|by|in)|vs\.?|versus|compared (?:to|with)|against|now|only|just|except|excluding|without|then|ok(?:ay)? (?:and|what|how|now)|instead|what if)\b/;
const FOLLOW_UP_ANAPHORA = /\b(?:(?:break|split|show|plot|chart|graph|sort|group|filter|compare|do|make|put|display|narrow|limit|repeat|redo|drill)(?: [a-z]+)? (?:it|that|this|them|those|these|the same)\b(?! (?:is|was|are)\b)|how (?:does|did|do) (?:that|it|this|they) compare|(?:the )?same (?:for|but|by|in|as|thing|question)\b|(?:that|it|this) (?:but|by|per|for|in|split by|broken down by) |\binstead$|\b(?:too|as well)$)/;
const QUESTION_START = /^(?:what|how|who|where|when|why|which|can|could|would|do|does|did|is|are|was|were|show|give|tell|list|compare|i|my|please|hi|hello|hey|thanks?|thank)\b/;

// ---------------------------------------------------------------------------------------------------
// Text preparation

/** The analysed part of a message: capped, control and zero-width characters turned into spaces. */
function cleanText(text: unknown): string {
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
function normalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[’‘`´]/g, "'")
    .replace(/[–—]/g, '-')
    .replace(/[^\p{L}\p{N}\s#&/.\-'%$€£,:+]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A text whose matched spans are blanked out (same length, so indexes stay valid), so no phrase counts twice. */
class Masked {
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

function toNumber(word: string | undefined): number | undefined {
  if (word === undefined) return undefined;
  const n = /^\d+$/.test(word) ? Number(word) : WORD_NUMBERS[word];
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Dates: day numbers since 1970-01-01 (UTC arithmetic on calendar dates, no time zone involved).

const DAY_MS = 86_400_000;

function dayOf(y: number, m: number, d: number): number {
  return Math.round(Date.UTC(y, m - 1, d) / DAY_MS);
}
function isoOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}
function monthStart(y: number, m: number): number {
  // Date.UTC normalises month overflow both ways (month 0 = December of the year before).
  return Math.round(Date.UTC(y, m - 1, 1) / DAY_MS);
}
function validDate(y: number, m: number, d: number): boolean {
  if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

interface Today {
  day: number;
  y: number;
  m: number;
  d: number;
  /** Start of the ISO week (Monday). */
  weekStart: number;
  quarter: number;
}

function parseToday(today: string | undefined): Today | null {
  const m = typeof today === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(today) : null;
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!validDate(y, mo, d)) return null;
  const day = dayOf(y, mo, d);
  // 1970-01-01 was a Thursday: +3 makes Monday 0.
  const weekday = (((day + 3) % 7) + 7) % 7;
  return { day, y, m: mo, d, weekStart: day - weekday, quarter: Math.floor((mo - 1) / 3) + 1 };
}

function range(label: string, start: number, end: number): TimeRange {
  return { label, start: isoOf(start), end: isoOf(end) };
}
function explicitRange(start: number, lastDay: number): TimeRange {
  const [a, b] = start <= lastDay ? [start, lastDay] : [lastDay, start];
  return range(`${isoOf(a)}..${isoOf(b)}`, a, b + 1);
}
function monthRange(y: number, m: number): TimeRange {
  return range(`${y}-${String(m).padStart(2, '0')}`, monthStart(y, m), monthStart(y, m + 1));
}
function quarterRange(y: number, q: number): TimeRange {
  return range(`${y}-Q${q}`, monthStart(y, q * 3 - 2), monthStart(y, q * 3 + 1));
}
function yearRange(y: number): TimeRange {
  return range(String(y), dayOf(y, 1, 1), dayOf(y + 1, 1, 1));
}
/** The year of the most recent `month`/`day` not after today ("in March", "Jan 5" without a year). */
function recentYear(t: Today, month: number, day = 1): number {
  return month < t.m || (month === t.m && day <= t.d) ? t.y : t.y - 1;
}
function yearOf(t: Today, year: string | undefined, rel: string | undefined, fallback: number): number {
  if (year) return Number(year);
  if (rel === 'last' || rel === 'previous') return t.y - 1;
  if (rel === 'this' || rel === 'current') return t.y;
  if (rel === 'next') return t.y + 1;
  return fallback;
}

type Unit = 'day' | 'week' | 'month' | 'quarter' | 'year';
function unitOf(word: string): Unit {
  return word.replace(/s$/, '') as Unit;
}

/** The calendar unit `back` steps before the current one (0 = this week/month/…). */
function calendarUnit(t: Today, unit: Unit, back: number): [number, number] {
  switch (unit) {
    case 'day':
      return [t.day - back, t.day - back + 1];
    case 'week':
      return [t.weekStart - 7 * back, t.weekStart - 7 * back + 7];
    case 'month':
      return [monthStart(t.y, t.m - back), monthStart(t.y, t.m - back + 1)];
    case 'quarter': {
      const first = t.quarter * 3 - 2 - 3 * back;
      return [monthStart(t.y, first), monthStart(t.y, first + 3)];
    }
    case 'year':
      return [dayOf(t.y - back, 1, 1), dayOf(t.y - back + 1, 1, 1)];
  }
}

interface TimeRule {
  re: RegExp;
  resolve: (m: RegExpExecArray, t: Today) => TimeRange | null;
}

const ISO = '(\\d{4})-(\\d{2})-(\\d{2})';
function isoDay(y?: string, m?: string, d?: string): number | null {
  const [yy, mm, dd] = [Number(y), Number(m), Number(d)];
  return validDate(yy, mm, dd) ? dayOf(yy, mm, dd) : null;
}
function monthNum(word: string | undefined): number {
  return MONTHS[word ?? ''] ?? 0;
}
const PREPOSITION_BEFORE = /\b(?:in|during|for|since|of|from|until|till|to|between|through|and|by|before|after)\s*$/;

// In priority order; each match is masked before the next rule runs, so "the week before last" is never
// also "last week", "March 2026" never also "2026", and "in march last year" never also "last year".
const TIME_RULES: TimeRule[] = [
  {
    re: new RegExp(`\\b${ISO}\\s*(?:to|until|till|through|thru|and|-|\\.\\.)\\s*${ISO}\\b`, 'g'),
    resolve: (m) => {
      const a = isoDay(m[1], m[2], m[3]);
      const b = isoDay(m[4], m[5], m[6]);
      return a !== null && b !== null ? explicitRange(a, b) : null;
    },
  },
  {
    // "Jan 5 to Jan 20", "between March 3 and 10", "from jan 5th, 2026 until feb 2"
    re: new RegExp(`\\b(${MONTH}) (\\d{1,2})${ORDINAL}(?:,? (\\d{4}))? (?:to|until|till|through|and|-) (?:(${MONTH}) )?(\\d{1,2})${ORDINAL}(?:,? (\\d{4}))?(?!\\d)`, 'g'),
    resolve: (m, t) => {
      const m1 = monthNum(m[1]);
      const d1 = Number(m[2]);
      const m2 = m[4] ? monthNum(m[4]) : m1;
      const d2 = Number(m[5]);
      const y1 = m[3] ? Number(m[3]) : m[6] && m2 >= m1 ? Number(m[6]) : recentYear(t, m1, d1);
      const y2 = m[6] ? Number(m[6]) : m2 < m1 ? y1 + 1 : y1;
      if (!validDate(y1, m1, d1) || !validDate(y2, m2, d2)) return null;
      return explicitRange(dayOf(y1, m1, d1), dayOf(y2, m2, d2));
    },
  },
  {
    // "5 Jan to 20 Jan"
    re: new RegExp(`\\b(\\d{1,2})${ORDINAL}(?: of)? (${MONTH}) (?:to|until|till|through|and|-) (\\d{1,2})${ORDINAL}(?: of)? (${MONTH})(?:,? (\\d{4}))?\\b`, 'g'),
    resolve: (m, t) => {
      const [d1, m1, d2, m2] = [Number(m[1]), monthNum(m[2]), Number(m[3]), monthNum(m[4])];
      const y2 = m[5] ? Number(m[5]) : recentYear(t, m2, d2);
      const y1 = m2 < m1 ? y2 - 1 : y2;
      if (!validDate(y1, m1, d1) || !validDate(y2, m2, d2)) return null;
      return explicitRange(dayOf(y1, m1, d1), dayOf(y2, m2, d2));
    },
  },
  {
    // "from March to May", "between jan and mar 2026"
    re: new RegExp(`\\b(?:from|between) (${MONTH})(?: (\\d{4}))? (?:to|until|till|through|and|-) (${MONTH})(?: (\\d{4}))?\\b`, 'g'),
    resolve: (m, t) => {
      const [m1, m2] = [monthNum(m[1]), monthNum(m[3])];
      const y1 = m[2] ? Number(m[2]) : m[4] ? Number(m[4]) - (m2 < m1 ? 1 : 0) : recentYear(t, m1);
      const y2 = m[4] ? Number(m[4]) : m2 < m1 ? y1 + 1 : y1;
      if (!validDate(y1, m1, 1) || !validDate(y2, m2, 1)) return null;
      return explicitRange(monthStart(y1, m1), monthStart(y2, m2 + 1) - 1);
    },
  },
  {
    re: new RegExp(`\\b${ISO}\\b`, 'g'),
    resolve: (m) => {
      const a = isoDay(m[1], m[2], m[3]);
      return a === null ? null : range(isoOf(a), a, a + 1);
    },
  },
  {
    // "March 14", "march 14th, 2025", "14 March", "the 14th of march"
    re: new RegExp(`\\b(?:(${MONTH}) (\\d{1,2})${ORDINAL}|(\\d{1,2})${ORDINAL} (?:of )?(${MONTH}))(?:,? (\\d{4}))?(?![\\d:])`, 'g'),
    resolve: (m, t) => {
      const month = monthNum(m[1] ?? m[4]);
      const day = Number(m[2] ?? m[3]);
      const y = m[5] ? Number(m[5]) : recentYear(t, month, day);
      if (!validDate(y, month, day)) return null;
      const a = dayOf(y, month, day);
      return range(isoOf(a), a, a + 1);
    },
  },
  {
    re: /\b(?:the )?(week|month|quarter|year) before last\b/g,
    resolve: (m, t) => {
      const unit = unitOf(m[1] ?? '');
      const [a, b] = calendarUnit(t, unit, 2);
      return range(`${unit}_before_last`, a, b);
    },
  },
  {
    re: /\bsince (?:the )?(?:start|beginning) of (?:the |this )?(week|month|quarter|year)\b/g,
    resolve: (m, t) => {
      const [start] = calendarUnit(t, unitOf(m[1] ?? ''), 0);
      return range(`since_${isoOf(start)}`, start, t.day + 1);
    },
  },
  {
    // "H1", "first half of 2025": bare, the most recent half that has begun.
    re: /\b(?:h([12])|(first|second) half)(?: (?:of )?(\d{4})| (?:of )?(last|this|previous) year)?\b/g,
    resolve: (m, t) => {
      const h = m[1] ? Number(m[1]) : m[2] === 'first' ? 1 : 2;
      const y = yearOf(t, m[3], m[4], h === 1 || t.m >= 7 ? t.y : t.y - 1);
      if (y < 1900 || y > 2200) return null;
      return range(`${y}-H${h}`, monthStart(y, h * 6 - 5), monthStart(y, h * 6 + 1));
    },
  },
  {
    // "03/2026", "3/2026": a month (day/month/year dates are too ambiguous to guess).
    re: /\b(0?[1-9]|1[0-2])\/(\d{4})\b/g,
    resolve: (m) => {
      const y = Number(m[2]);
      return y >= 1900 && y <= 2200 ? monthRange(y, Number(m[1])) : null;
    },
  },
  {
    re: /\b(?:the )?day before yesterday\b/g,
    resolve: (_m, t) => range('day_before_yesterday', t.day - 2, t.day - 1),
  },
  {
    // Days are rolling and include today ("last 7 days" = today and the 6 before); weeks, months, quarters
    // and years are whole calendar units before the current one ("last 3 months" in June = March–May).
    re: new RegExp(`\\b(?:last|past|previous|prior|trailing|recent|preceding)(?: (${NUM}))? (days?|weeks?|months?|quarters?|years?)\\b`, 'g'),
    resolve: (m, t) => {
      const n = m[1] === undefined ? undefined : toNumber(m[1]);
      if (n === undefined || n < 1 || n > 3660) return null;
      const unit = unitOf(m[2] ?? '');
      if (unit === 'day') return range(`last_${n}_days`, t.day - n + 1, t.day + 1);
      const [start] = calendarUnit(t, unit, n);
      const [end] = calendarUnit(t, unit, 0);
      return range(n === 1 ? `last_${unit}` : `last_${n}_${unit}s`, start, end);
    },
  },
  {
    re: new RegExp(`\\b(${NUM}|a) (day|week|month|quarter|year)s? ago\\b`, 'g'),
    resolve: (m, t) => {
      const n = m[1] === 'a' ? 1 : toNumber(m[1]);
      if (n === undefined || n < 1 || n > 3660) return null;
      const unit = unitOf(m[2] ?? '');
      const [a, b] = calendarUnit(t, unit, n);
      if (unit === 'day') return range(isoOf(a), a, b);
      const label = n === 1 ? `last_${unit}` : n === 2 ? `${unit}_before_last` : `${n}_${unit}s_ago`;
      return range(label, a, b);
    },
  },
  {
    re: /\b(?:year[- ]to[- ]date|ytd|so far this year|this year so far|(month|quarter)[- ]to[- ]date|mtd|qtd|so far this (month|quarter)|this (month|quarter) so far)\b/g,
    resolve: (m, t) => {
      const unit = m[1] ?? m[2] ?? m[3] ?? (m[0] === 'mtd' ? 'month' : m[0] === 'qtd' ? 'quarter' : 'year');
      const [start] = calendarUnit(t, unit as Unit, 0);
      return range(unit === 'month' ? 'mtd' : unit === 'quarter' ? 'qtd' : 'ytd', start, t.day + 1);
    },
  },
  {
    // "in March", "March 2026", "march of last year", "in May" (a bare "may" needs a preposition or a year)
    re: new RegExp(`\\b(${MONTH})(?: of)?(?:,? (\\d{4})| (last|this|previous|next) year)?\\b`, 'g'),
    resolve: (m, t) => {
      const month = monthNum(m[1]);
      // "may" is mostly the verb, "mar"/"sep" mostly other words: alone they need a preposition or a year.
      const ambiguous = m[1] === 'may' || m[1] === 'mar' || m[1] === 'sep';
      if (ambiguous && !m[2] && !m[3] && !PREPOSITION_BEFORE.test(m.input.slice(Math.max(0, m.index - 10), m.index))) return null;
      const y = yearOf(t, m[2], m[3], recentYear(t, month));
      return y >= 1900 && y <= 2200 ? monthRange(y, month) : null;
    },
  },
  {
    // "Q3", "q1 2025", "2025 Q1", "Q2 of last year", "second quarter", "3rd quarter 2024"
    re: /\b(?:q([1-4])(?:[ -]?(?:of )?(\d{4})| (?:of )?(last|this|previous) year)?|(\d{4})[ -]?q([1-4])|(first|second|third|fourth|1st|2nd|3rd|4th) quarter(?: of)?(?: (\d{4})| (last|this|previous) year)?)\b/g,
    resolve: (m, t) => {
      const ordinal: Record<string, number> = { first: 1, second: 2, third: 3, fourth: 4, '1st': 1, '2nd': 2, '3rd': 3, '4th': 4 };
      const q = Number(m[1] ?? m[5] ?? 0) || ordinal[m[6] ?? ''] || 0;
      if (!q) return null;
      const y = yearOf(t, m[2] ?? m[4] ?? m[7], m[3] ?? m[8], q <= t.quarter ? t.y : t.y - 1);
      return y >= 1900 && y <= 2200 ? quarterRange(y, q) : null;
    },
  },
  {
    re: /\b(today|yesterday)\b/g,
    resolve: (m, t) => (m[1] === 'today' ? range('today', t.day, t.day + 1) : range('yesterday', t.day - 1, t.day)),
  },
  {
    re: /\b(this|current|last|previous|past|prior) (week|month|quarter|year)(?:'s)?\b/g,
    resolve: (m, t) => {
      const unit = unitOf(m[2] ?? '');
      const back = m[1] === 'this' || m[1] === 'current' ? 0 : 1;
      const [a, b] = calendarUnit(t, unit, back);
      return range(`${back ? 'last' : 'this'}_${unit}`, a, b);
    },
  },
  {
    // A bare year, not an amount ("over 2000 orders", "$2025").
    re: /(?<![$€£#\d.,-])\b(20[0-4]\d|19[5-9]\d)\b(?![\d%-])/g,
    resolve: (m) => {
      const before = m.input.slice(Math.max(0, m.index - 14), m.index);
      if (/\b(?:over|above|under|below|than|top|least|most|about|around|order|orders|product|number|no\.?|#)\s*$/.test(before)) return null;
      return yearRange(Number(m[1]));
    },
  },
];

/** The first time expression of the text (masked in `work`), resolved against `t`. */
function extractTimeRange(work: Masked, t: Today): TimeRange | undefined {
  const found: { index: number; range: TimeRange }[] = [];
  for (const rule of TIME_RULES) {
    work.each(rule.re, (m) => {
      const r = rule.resolve(m, t);
      if (r) found.push({ index: m.index, range: r });
      return r !== null;
    });
  }
  found.sort((a, b) => a.index - b.index);
  const first = found[0];
  if (!first) return undefined;
  // "since March", "since last week": from its start up to and including today.
  const before = work.text.slice(Math.max(0, first.index - 12), first.index);
  if (/\bsince (?:the )?(?:start of |beginning of )?$/.test(before) && !first.range.label.includes('..')) {
    const start = first.range.start;
    const end = isoOf(t.day + 1);
    if (start < end) return { label: `since_${start}`, start, end };
  }
  return first.range;
}

// ---------------------------------------------------------------------------------------------------
// Slot extraction

function dimensionOf(word: string): Dimension | undefined {
  const w = word.replace(/-/g, ' ');
  if (/categor/.test(w)) return 'category';
  if (/^(?:products?|items?|skus?|articles?)$/.test(w)) return 'product';
  if (/^regions?$/.test(w)) return 'region';
  if (/^(?:countr|markets?)/.test(w)) return 'country';
  if (/channel/.test(w)) return 'channel';
  if (/segment/.test(w)) return 'segment';
  if (/status/.test(w)) return 'status';
  if (/^(?:days?|daily|day by day)$/.test(w)) return 'day';
  if (/^(?:weeks?|weekly|week over week)$/.test(w)) return 'week';
  if (/^(?:months?|monthly|month over month)$/.test(w)) return 'month';
  if (/^(?:quarters?|quarterly|quarter over quarter)$/.test(w)) return 'quarter';
  if (/^(?:years?|yearly|annual|annually|year over year|yoy)$/.test(w)) return 'year';
  return undefined;
}

const SINGULAR_DIM = /^(?:category|product|item|sku|article|region|country|market|channel|sales channel|segment|customer segment|day|week|month|quarter|year)$/;

interface Ranking {
  dimension?: Dimension;
  limit?: number;
  order?: 'asc' | 'desc';
}

function extractRanking(work: Masked): Ranking {
  const text = work.text;
  let best: { index: number; dim: Dimension; singular: boolean } | undefined;
  for (const re of DIM_RULES) {
    for (const m of text.matchAll(re)) {
      const noun = m[1] ?? '';
      const dim = dimensionOf(noun);
      if (dim && (!best || m.index < best.index)) best = { index: m.index, dim, singular: SINGULAR_DIM.test(noun) };
    }
  }
  if (!best) {
    const trend = TREND_RE.exec(text);
    TREND_RE.lastIndex = 0;
    if (trend) best = { index: trend.index, dim: 'month', singular: false };
  }
  const out: Ranking = best ? { dimension: best.dim } : {};
  for (const [re, wordGroup, numGroup] of LIMIT_RULES) {
    work.each(re, (m) => {
      const n = toNumber(m[numGroup]);
      if (out.limit !== undefined || n === undefined || n < 1 || n > 1000) return false;
      out.limit = n;
      if (wordGroup) out.order = ASC_SET.has(m[wordGroup] ?? '') ? 'asc' : 'desc';
      return true;
    });
  }
  if (!out.order) {
    const desc = firstIndex(text, DESC_WORDS);
    const asc = firstIndex(text, ASC_WORDS);
    if (desc >= 0 || asc >= 0) out.order = asc >= 0 && (desc < 0 || asc < desc) ? 'asc' : 'desc';
  }
  // "which region had the highest revenue", "our best-selling product": one winner.
  if (out.order && out.limit === undefined && best?.singular && !/^(?:day|week|month|quarter|year)$/.test(best.dim)) out.limit = 1;
  return out;
}

function firstIndex(text: string, re: RegExp): number {
  re.lastIndex = 0;
  const m = re.exec(text);
  re.lastIndex = 0;
  return m ? m.index : -1;
}

function extractEntities(work: Masked, original: string): SlotEntities {
  const orderIds: number[] = [];
  const productIds: number[] = [];
  const skus: string[] = [];
  const push = (list: number[], digits: string | undefined): boolean => {
    const n = Number(digits);
    if (!Number.isSafeInteger(n) || n < 1) return false;
    if (!list.includes(n)) list.push(n);
    return true;
  };
  // SKUs as generated by the seed: category code, dash, five digits (ELE-10042).
  for (const m of original.matchAll(/(?<![A-Za-z0-9-])([A-Za-z]{3})-(\d{5})(?![\d-])/g)) {
    const sku = `${(m[1] ?? '').toUpperCase()}-${m[2] ?? ''}`;
    if (!skus.includes(sku)) skus.push(sku);
  }
  work.each(/\b[a-z]{3}-\d{5}\b/g, () => true);
  const notAQuantity = '(?!\\s*(?:days?|weeks?|months?|years?|hours?|items?|units?|times?|orders?|products?|%|\\.\\d))';
  work.each(new RegExp(`\\border(?:\\s+(?:number|no\\.?|nr\\.?|id|num\\.?))?\\s*[:#]?\\s*#?(\\d{1,12})\\b${notAQuantity}`, 'g'), (m) => push(orderIds, m[1]));
  work.each(new RegExp(`\\bproduct(?:\\s+(?:number|no\\.?|id|num\\.?))?\\s*[:#]?\\s*#?(\\d{1,12})\\b${notAQuantity}`, 'g'), (m) => push(productIds, m[1]));
  work.each(/(?<![\w#])#\s?(\d{1,12})\b/g, (m) => push(orderIds, m[1]));
  const out: SlotEntities = {};
  if (orderIds.length) out.orderIds = orderIds;
  if (productIds.length) out.productIds = productIds;
  if (skus.length) out.skus = skus;
  return out;
}

function extractTopic(work: Masked): Topic | undefined {
  let best: { index: number; topic: Topic } | undefined;
  for (const [re, topic] of TOPIC_RULES) {
    work.each(re, (m) => {
      if (!best || m.index < best.index) best = { index: m.index, topic };
      return true;
    });
  }
  return best?.topic;
}

function extractMetric(work: Masked): { metric?: Metric; strong: boolean } {
  let strong: { index: number; metric: Metric } | undefined;
  let weak: { index: number; metric: Metric } | undefined;
  for (const rule of METRIC_RULES) {
    work.each(rule.re, (m) => {
      if (!rule.strong && rule.metric === 'customers') {
        const prevWord = /([a-z0-9'-]+)\s*$/.exec(work.text.slice(Math.max(0, m.index - 20), m.index))?.[1];
        if (prevWord && CUSTOMER_QUALIFIERS.has(prevWord)) return false;
      }
      const hit = { index: m.index, metric: rule.metric };
      if (rule.strong) {
        if (!strong || hit.index < strong.index) strong = hit;
      } else if (!weak || hit.index < weak.index) weak = hit;
      return true;
    });
  }
  const chosen = strong ?? weak;
  return chosen ? { metric: chosen.metric, strong: strong !== undefined } : { strong: false };
}

function extractFilters(work: Masked, original: string): SlotFilters {
  const found: Partial<Record<FilterKey, Set<string>>> = {};
  const add = (key: FilterKey, value: string): void => {
    (found[key] ??= new Set()).add(value);
  };
  for (const rule of FILTER_RULES) {
    work.each(rule.re, () => {
      add(rule.key, rule.value);
      return true;
    });
  }
  // Shouted text is not a list of country codes.
  const letters = original.replace(/[^A-Za-z]/g, '');
  const upper = original.replace(/[^A-Z]/g, '').length;
  if (letters.length > 0 && upper / letters.length < 0.5) {
    for (const m of original.matchAll(COUNTRY_CODES)) {
      const code = m[1] === 'UK' ? 'GB' : m[1] === 'USA' ? 'US' : (m[1] ?? '');
      if (COUNTRIES.includes(code)) add('country', code);
    }
  }
  return canonicalFilters(found);
}

function canonicalFilters(found: Partial<Record<FilterKey, Iterable<string>>>): SlotFilters {
  const out: SlotFilters = {};
  for (const key of FILTER_KEYS) {
    const values = found[key];
    if (!values) continue;
    const set = new Set(values);
    const ordered = FILTER_ORDER[key].filter((v) => set.has(v));
    if (ordered.length) out[key] = ordered;
  }
  return out;
}

function extractStatuses(text: string, metric: Metric | undefined): string[] {
  if (MY_ORDER.test(text)) return [];
  const out = new Set<string>();
  for (const m of text.matchAll(STATUS_RE)) {
    const word = (m[1] ?? m[2] ?? m[3] ?? '').replace('canceled', 'cancelled');
    // "cancelled orders" is the cancellations metric itself, not a filter on it.
    if ((word === 'cancelled' && metric === 'cancellations') || (word === 'returned' && metric === 'returns')) continue;
    if ((ORDER_STATUSES as readonly string[]).includes(word)) out.add(word);
  }
  return [...out];
}

function extractNumbers(text: string): number[] {
  const out: number[] = [];
  for (const m of text.matchAll(/(?<![\p{L}\d.,])[$€£]?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?![\p{L}\d])/gu)) {
    const n = Number(`${(m[1] ?? '').replace(/,/g, '')}${m[2] ? `.${m[2]}` : ''}`);
    if (Number.isFinite(n)) out.push(n);
    if (out.length >= 20) break;
  }
  return out;
}

function complaintScore(text: string): number {
  return countMatches(text, COMPLAINT_STRONG) * 2 + countMatches(text, COMPLAINT_WEAK);
}

function countMatches(text: string, re: RegExp): number {
  let n = 0;
  for (const _ of text.matchAll(re)) if (++n >= 10) break;
  return n;
}

/** Whether the message is only greetings, thanks, goodbyes or questions about the assistant. */
function isSmallTalkOnly(norm: string): boolean {
  if (!norm) return false;
  SMALL_TALK.lastIndex = 0;
  if (!SMALL_TALK.test(norm)) return false;
  const rest = norm.replace(SMALL_TALK, ' ').replace(SMALL_TALK_FILLER, ' ').replace(/[^\p{L}\p{N}]/gu, '');
  return rest.length === 0;
}

// ---------------------------------------------------------------------------------------------------
// Analysis shared by all exports

interface Analysis {
  norm: string;
  slots: Slots;
  followUp: boolean;
  smallTalkOnly: boolean;
  complaintScore: number;
  firstPerson: boolean;
  /** "returns"/"refunds" alone, undecided between the metric and the topic. */
  bareReturns: boolean;
}

// Relative dates only need some day to resolve against when the caller wants presence, not values.
const ANY_DAY = parseToday('2000-01-03') as Today;

function analyse(raw: string, today: Today): Analysis {
  const original = cleanText(raw);
  const norm = normalize(original);
  const work = new Masked(norm);
  const slots: Slots = {};

  const entities = extractEntities(work, original);
  const timeRange = extractTimeRange(work, today);
  const topic = extractTopic(work);
  const ranking = extractRanking(work);
  // On a copy: "how many business customers" is the metric and still the segment filter.
  const { metric, strong } = extractMetric(new Masked(work.text));
  const bareReturns = countMatches(work.text, BARE_RETURNS) > 0;
  if (bareReturns) work.each(BARE_RETURNS, () => true);
  const filters = extractFilters(work, original);
  const statuses = extractStatuses(norm, metric);
  if (statuses.length) filters.status = statuses;
  const numbers = extractNumbers(work.text);

  if (timeRange) slots.timeRange = timeRange;
  if (metric) slots.metric = metric;
  if (ranking.dimension) slots.dimension = ranking.dimension;
  if (Object.keys(filters).length) slots.filters = filters;
  if (Object.keys(entities).length) slots.entities = entities;
  if (ranking.limit !== undefined) slots.limit = ranking.limit;
  if (ranking.order) slots.order = ranking.order;
  if (numbers.length) slots.numbers = numbers;
  if (topic) slots.topic = topic;
  // A policy question's incidental nouns ("free shipping on orders over $50") are not a metric.
  if (topic && slots.metric && !slots.timeRange && !slots.dimension && slots.limit === undefined) delete slots.metric;

  const score = complaintScore(norm);
  // "can I" / "how do I" frame a general question; the customer's own voice is elsewhere ("I received").
  const firstPerson = FIRST_PERSON.test(norm.replace(GENERAL_QUESTION_ALL, ' '));
  const conditional = CONDITIONAL.test(norm);
  const general = GENERAL_QUESTION.test(norm);
  const complaint =
    !conditional && (score >= 2 ? firstPerson || (!general && !strong) : score === 1 && firstPerson && !general);
  if (complaint) slots.complaint = true;
  if (PURCHASE_RE.test(norm)) slots.purchase = true;
  if (CHART_RE.test(norm)) slots.chart = true;
  const qualifiers = extractQualifiers(norm);
  if (qualifiers.length) slots.qualifiers = qualifiers;

  const smallTalkOnly = isSmallTalkOnly(norm);
  const followUp = !smallTalkOnly && looksLikeFollowUp(norm, slots, bareReturns);
  return { norm, slots, followUp, smallTalkOnly, complaintScore: score, firstPerson, bareReturns };
}

// Details that change the answer but have no slot of their own: "new" vs "returning" customers, "shipping
// cost" vs "shipping time", "return" vs "exchange". Without them such near misses share a cache signature.
const QUALIFIERS: [string, RegExp][] = [
  ['customers:new', /\b(?:new|first[- ]time|newly acquired|first)\s+(?:customers?|buyers?|shoppers?|clients?)\b/],
  ['customers:returning', /\b(?:returning|repeat|existing|loyal|recurring)\s+(?:customers?|buyers?|shoppers?|clients?)\b/],
  ['compare', /\b(?:compared?|comparison|versus|vs|against|than (?:last|the previous|previous|before)|month over month|year over year|mom|yoy)\b/],
  ['aspect:cost', /\b(?:cost|costs|price|prices|priced|fee|fees|charge|charges|charged|how much (?:is|does|do|are|will))\b/],
  ['aspect:time', /\b(?:how long|how fast|how quickly|how soon|when will|delivery times?|shipping times?|transit times?|arrive|arrives|take to|business days|days? to)\b/],
  ['aspect:international', /\b(?:international(?:ly)?|abroad|overseas|worldwide|other countries|outside the)\b/],
  ['action:cancel', /\bcancel(?! ?l?ed)(?:ling|ing)?\b/],
  ['action:exchange', /\b(?:exchange|exchanges|swap|swapping)\b/],
  ['action:change', /\b(?:change|update|modify|edit)\s+(?:my|the|an?)\s+(?:address|order|payment|delivery)\b/],
];

function extractQualifiers(norm: string): string[] {
  return QUALIFIERS.filter(([, re]) => re.test(norm)).map(([name]) => name).sort();
}

// "Thanks! And what about last year?": the pleasantry does not make the rest stand alone.
const LEADING_PLEASANTRY = /^(?:(?:hi+|hey+|hello|thanks?|thank you|ok(?:ay)?|great|cool|nice|perfect|got it)\b[ ,!.]*)+/;

function looksLikeFollowUp(text: string, slots: Slots, bareReturns: boolean): boolean {
  const norm = text.replace(LEADING_PLEASANTRY, '');
  if (!norm) return false;
  if (FOLLOW_UP_START.test(norm) || FOLLOW_UP_ANAPHORA.test(norm)) return true;
  // A bare fragment ("Europe?", "last month", "by channel") has nothing to stand on but the previous turn.
  const words = norm.split(' ').length;
  if (words > 4 || slots.metric || slots.entities || QUESTION_START.test(norm)) return false;
  if (slots.dimension && (slots.limit !== undefined || slots.order)) return false;
  return Boolean(slots.timeRange || slots.dimension || slots.filters || slots.limit !== undefined || slots.topic || bareReturns);
}

/** Settles "returns"/"refunds" alone: the metric when the question (or the turn it follows) is analytics. */
function settleBareReturns(a: Analysis, previous: SessionContext | null): void {
  if (!a.bareReturns || a.slots.metric || a.slots.topic) return;
  const s = a.slots;
  const analyticsHere = Boolean(s.timeRange || s.dimension || s.limit !== undefined || ANALYTICS_PHRASING.test(a.norm));
  const prevAnalytics = a.followUp && previous !== null && (previous.intent === 'analytics' || previous.slots.metric !== undefined);
  const prevKnowledge = a.followUp && previous !== null && (previous.intent === 'knowledge' || previous.slots.topic !== undefined);
  if (prevAnalytics || (analyticsHere && !prevKnowledge)) s.metric = 'returns';
  else s.topic = 'returns';
}

const INHERITED_ORDER = ['timeRange', 'metric', 'dimension', 'filters', 'entities', 'limit', 'order', 'topic'] as const;

/** The slots of a follow-up: its own, plus what it leaves unsaid from the previous turn. */
function inherit(own: Slots, prev: Slots): { slots: Slots; inherited: string[] } {
  const slots: Slots = { ...own };
  const inherited = new Set<string>();
  const switchesToKnowledge = own.topic !== undefined;
  const switchesToOrder = (own.entities?.orderIds?.length ?? 0) > 0;
  const analytic = !switchesToKnowledge && !switchesToOrder;

  if (analytic) {
    for (const key of ['metric', 'timeRange', 'limit', 'order', 'qualifiers'] as const) {
      if (slots[key] === undefined && prev[key] !== undefined) {
        (slots as Record<string, unknown>)[key] = prev[key];
        inherited.add(key);
      }
    }
    // "what about Europe?" after "revenue by region": one region needs no breakdown by region.
    const ownFilterKeys = Object.keys(own.filters ?? {});
    if (!slots.dimension && prev.dimension && !ownFilterKeys.includes(prev.dimension)) {
      slots.dimension = prev.dimension;
      inherited.add('dimension');
    }
    const merged = mergeFilters(own.filters, prev.filters);
    if (merged.inherited) {
      slots.filters = merged.filters;
      inherited.add('filters');
    }
  }
  if (!own.entities && prev.entities && !switchesToKnowledge) {
    slots.entities = prev.entities;
    inherited.add('entities');
  }
  if (!own.topic && prev.topic && !own.metric && !switchesToOrder) {
    slots.topic = prev.topic;
    inherited.add('topic');
  }
  return { slots, inherited: INHERITED_ORDER.filter((k) => inherited.has(k)) };
}

/** Own filter keys replace the previous ones; a new country drops a region it is not in, and vice versa. */
function mergeFilters(own: SlotFilters | undefined, prev: SlotFilters | undefined): { filters?: SlotFilters; inherited: boolean } {
  if (!prev) return { filters: own, inherited: false };
  const out: Partial<Record<FilterKey, string[]>> = { ...own };
  let inherited = false;
  for (const key of FILTER_KEYS) {
    const values = prev[key];
    if (!values?.length || out[key]) continue;
    if (key === 'region' && own?.country && !values.some((r) => own.country?.some((c) => regionOf(c) === r))) continue;
    if (key === 'country' && own?.region && !values.some((c) => own.region?.includes(regionOf(c) ?? ''))) continue;
    out[key] = [...values];
    inherited = true;
  }
  const filters = canonicalFilters(out);
  return { filters: Object.keys(filters).length ? filters : undefined, inherited };
}

function regionOf(country: string): string | undefined {
  return REGIONS.find((r) => COUNTRIES_BY_REGION[r].includes(country));
}

// ---------------------------------------------------------------------------------------------------
// Exports

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

/** True when the message only makes sense with the previous turn: "and last month?", "what about Europe?", "same for electronics", "vs last year?" … */
export function isFollowUp(text: string): boolean {
  try {
    return analyse(text, ANY_DAY).followUp;
  } catch {
    return false;
  }
}

/** Slots of a message (relative dates resolved against `today`, YYYY-MM-DD); a follow-up inherits what it leaves unsaid from `previous`. */
export function captureByRules(text: string, opts: { today: string; previous?: SessionContext | null }): CaptureResult {
  try {
    const today = parseToday(opts?.today);
    const a = analyse(text, today ?? ANY_DAY);
    // Without a valid today a relative range cannot be resolved; a wrong range is worse than none.
    if (!today) delete a.slots.timeRange;
    const previous = opts?.previous ?? null;
    settleBareReturns(a, previous);
    const { slots, inherited } = a.followUp && previous?.slots ? inherit(a.slots, previous.slots) : { slots: a.slots, inherited: [] };
    // A ranking direction means nothing without something to rank ("the most helpful", "at most").
    if (slots.order && !slots.dimension && slots.limit === undefined) delete slots.order;
    return { slots, inherited, source: 'rules' };
  } catch {
    return { slots: {}, inherited: [], source: 'rules' };
  }
}

/** Intent, confidence (0..1) and complexity; given `slots` (the reconciling pass) it trusts them over the bare text. */
export function detectByRules(text: string, opts?: { slots?: Slots }): DetectResult {
  try {
    const a = analyse(text, ANY_DAY);
    settleBareReturns(a, null);
    const given = opts?.slots;
    const slots = given ?? a.slots;
    let { intent, confidence } = classify(a, slots, given !== undefined);
    // A follow-up read without its context is a guess, however clear its words.
    if (!given && a.followUp) confidence = Math.min(confidence, 0.6);
    if (confidence < 0.35 && intent !== 'unknown') intent = 'unknown';
    return { intent, confidence: round2(confidence), complexity: estimateComplexity(text, slots), source: 'rules' };
  } catch {
    return { intent: 'unknown', confidence: 0, complexity: 'simple', source: 'rules' };
  }
}

function round2(n: number): number {
  return Math.round(Math.max(0, Math.min(1, n)) * 100) / 100;
}

function classify(a: Analysis, s: Slots, given: boolean): { intent: IntentOrUnknown; confidence: number } {
  const norm = a.norm;
  if (!/[\p{L}\p{N}]/u.test(norm)) return { intent: 'unknown', confidence: 0.1 };
  const hasOrderId = (s.entities?.orderIds?.length ?? 0) > 0;
  const tracking = ORDER_TRACKING.test(norm);
  // Strong: two strong-ish signals in the text, or the slots say so and the text has no weaker reading.
  const complaintStrong = s.complaint === true && (a.complaintScore >= 2 || (given && a.complaintScore === 0));
  const analyticSlots = [s.timeRange, s.dimension, s.limit, s.filters, s.entities?.skus, s.entities?.productIds, s.chart].filter((v) => v !== undefined).length;

  if (complaintStrong) return { intent: 'complaint', confidence: a.complaintScore >= 3 ? 0.93 : 0.88 };
  if (hasOrderId || tracking) return { intent: 'order_status', confidence: hasOrderId && tracking ? 0.95 : 0.9 };
  if (a.smallTalkOnly) return { intent: 'small_talk', confidence: 0.95 };
  if (OUT_OF_SCOPE.test(norm) && !s.topic && !(s.metric && (s.timeRange || s.dimension))) return { intent: 'out_of_scope', confidence: 0.9 };
  if (s.topic && !(s.metric && (s.timeRange || s.dimension))) return { intent: 'knowledge', confidence: 0.9 };
  if (s.metric) return { intent: 'analytics', confidence: Math.min(0.97, 0.85 + 0.04 * analyticSlots) };
  if (analyticSlots >= 2) return { intent: 'analytics', confidence: 0.82 };
  if (s.complaint) return { intent: 'complaint', confidence: 0.65 };
  if (MY_ORDER.test(norm)) return { intent: 'order_status', confidence: 0.6 };
  if (analyticSlots === 1) return { intent: 'analytics', confidence: given ? 0.6 : 0.5 };
  if (POLICY_WORDS.test(norm)) return { intent: 'knowledge', confidence: 0.6 };
  if (GREETING_PREFIX.test(norm)) return { intent: 'small_talk', confidence: 0.5 };
  // A question with nothing of the shop in it is most likely about something else.
  if (norm.split(' ').length >= 3 && /\?|^(?:what|who|how|why|when|where|which|can|could|is|are|do|does|tell|write|give)\b/.test(norm)) {
    return { intent: 'out_of_scope', confidence: 0.45 };
  }
  return { intent: 'unknown', confidence: 0.3 };
}

/** Complexity from cheap heuristics: length, number of questions, comparisons and slots; greetings and thanks are 'trivial'. */
export function estimateComplexity(text: string, slots?: Slots): Complexity {
  try {
    const norm = normalize(cleanText(text));
    if (!norm || isSmallTalkOnly(norm)) return 'trivial';
    const words = norm.split(' ').length;
    const s = slots ?? {};
    const slotKinds = [s.timeRange, s.metric, s.dimension, s.filters, s.entities, s.limit, s.topic, s.chart].filter((v) => v !== undefined).length;
    if (words <= 2 && slotKinds === 0) return 'trivial';
    const questions = Math.max(countMatches(cleanText(text), /\?/g), 1);
    let points = 0;
    if (words > 15) points++;
    if (words > 35) points++;
    if (words > 80) points++;
    if (questions >= 2) points++;
    if (questions >= 3) points++;
    if (/\b(?:vs\.?|versus|compared?|comparison|difference|against)\b/.test(norm)) points++;
    if (/\b(?:why|explain|analy[sz]e|analysis|insights?|recommend|recommendations?|strategy|forecast|predict|correlat\w*|drivers?)\b/.test(norm)) points++;
    if (slotKinds >= 4) points++;
    if (slotKinds >= 6) points++;
    if (/\b(?:report|comprehensive|everything|full analysis|overview|deep dive|in depth|in-depth)\b/.test(norm)) points += 2;
    if (points === 0) return 'simple';
    if (points <= 2) return 'moderate';
    if (points <= 4) return 'complex';
    return 'comprehensive';
  } catch {
    return 'simple';
  }
}

/** The slot signature lives with the contract (the workflow compares signatures itself). */
export { slotSignature } from '../../workflows/shared/slot-signature.ts';
