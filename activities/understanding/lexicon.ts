// The understanding rules' lexicon (data): the shop's filter values in a fixed order, synonym tables and
// the regexes every rule reads. Each regex runs on the normalised text and is linear (no nested quantifiers).
import type { Metric, SlotFilters, Topic } from '../../workflows/shared/understanding.ts';
import { CATEGORIES, CHANNELS, COUNTRIES_BY_REGION, ORDER_STATUSES, REGIONS, SEGMENTS } from '../../workflows/shared/shop-vocabulary.ts';

// Enough for any real question; a 4000-character paste gains nothing past this and costs regex time.
export const MAX_CHARS = 2000;

// Filter values as stored in the demo schema, in a fixed order so equal meanings give equal slots.

export const COUNTRIES = Object.values(COUNTRIES_BY_REGION).flat();
export type FilterKey = keyof SlotFilters;
export const FILTER_ORDER: Record<FilterKey, readonly string[]> = {
  region: REGIONS,
  country: COUNTRIES,
  channel: CHANNELS,
  segment: SEGMENTS,
  category: CATEGORIES,
  status: ORDER_STATUSES,
};
export const FILTER_KEYS = Object.keys(FILTER_ORDER) as FilterKey[];

// Synonym tables. Each regex runs on the normalised text (lower case, punctuation but `#&/.-'%$,:` gone).

export const WORD_NUMBERS: Record<string, number> = {
  one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12,
  thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19, twenty: 20,
  thirty: 30, forty: 40, fifty: 50, sixty: 60, ninety: 90, hundred: 100,
};
export const NUM = `(?:\\d{1,4}|${Object.keys(WORD_NUMBERS).join('|')})`;

export const MONTHS: Record<string, number> = {
  january: 1, jan: 1, february: 2, feb: 2, march: 3, mar: 3, april: 4, apr: 4, may: 5, june: 6, jun: 6, july: 7, jul: 7,
  august: 8, aug: 8, september: 9, sept: 9, sep: 9, october: 10, oct: 10, november: 11, nov: 11, december: 12, dec: 12,
};
export const MONTH = `(?:${Object.keys(MONTHS).sort((a, b) => b.length - a.length).join('|')})`;
export const ORDINAL = '(?:st|nd|rd|th)?';

export interface MetricRule {
  re: RegExp;
  metric: Metric;
  /** Weak words ("orders", "customers") lose to any strong one: "revenue from delivered orders" is revenue. */
  strong: boolean;
}

// Specific phrases first: each match is masked, so "average order value" never also counts as "orders".
export const METRIC_RULES: MetricRule[] = [
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
export const BARE_RETURNS = /\b(?:returns|refunds)\b/g;

// Words that make "customers" a filter ("business customers") rather than the customers metric.
export const CUSTOMER_QUALIFIERS = new Set([
  'business', 'b2b', 'b2c', 'consumer', 'corporate', 'enterprise', 'wholesale', 'retail', 'private', 'individual',
  'mobile', 'app', 'web', 'online', 'store', 'in-store', 'my', 'for', 'from', 'among', 'to', 'by', 'with', 'of',
]);

export const TOPIC_RULES: [RegExp, Topic][] = [
  [/\b(?:returns? polic(?:y|ies)|refund polic(?:y|ies)|exchange polic(?:y|ies)|how (?:do|can|would) (?:i|we|you) return|can i (?:still )?return|return (?:a|an|my|the|this|these|those|it|them|items?|products?|something)\b|return window|return period|returns? process|returns? label|(?:get|receive|request) a refund|how (?:do|does) (?:returns|refunds) work|refund process|exchanges?|send (?:it|them|this) back)/g, 'returns'],
  [/\b(?:shipping|shipment options|ships? (?:to|internationally|abroad|overseas|worldwide)|do you (?:ship|deliver)|deliver(?:y|ed)? (?:to|abroad|internationally|times?|options?|costs?|fees?|charges?|speed)|delivery time|free delivery|express delivery|next[- ]day delivery|international delivery|postage|courier)\b/g, 'shipping'],
  [/\b(?:warrant(?:y|ies)|guarantee[sd]?|guaranty)\b/g, 'warranty'],
  [/\b(?:payments?|payment methods?|pay (?:with|by|via|using|in|on|later|over time)|how (?:can|do) i pay|paypal|credit cards?|debit cards?|instal{1,2}ments?|klarna|afterpay|apple pay|google pay|bank transfer|cash on delivery|buy now,? pay later|bnpl|visa|mastercard|amex|american express|billing)\b/g, 'payments'],
  [/\b(?:loyalty|rewards?(?: points| program(?:me)?)?|points|membership|vip|referral|cashback|store credit)\b/g, 'loyalty'],
  [/\b(?:privacy|personal (?:data|information|info|details)|my data|gdpr|ccpa|data protection|delete my (?:data|account|information)|cookies?|unsubscribe|opt[- ]out|third parties)\b/g, 'privacy'],
];

export interface FilterRule {
  key: FilterKey;
  value: string;
  re: RegExp;
}

// Longer names before the words they contain ("latin america" before "america"): matches are masked.
export const FILTER_RULES: FilterRule[] = [
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
export const COUNTRY_CODES = /(?<![A-Za-z])(US|USA|CA|GB|UK|DE|FR|ES|AU|JP|SG|NZ|MX|BR|CL)(?![A-Za-z])/g;

// A status filters orders only when it qualifies them ("delivered orders"); "has my order shipped" is tracking.
export const STATUS_RE = /\b(placed|shipped|delivered|cancell?ed|returned)(?= (?:orders?|ones|items|purchases)\b)|\borders? (?:that (?:are|were|have been)|which (?:are|were)|were|was|have been|had been|got|with status|in status|still) (placed|shipped|delivered|cancell?ed|returned)\b|\bstatus (?:is |= ?|of )?(placed|shipped|delivered|cancell?ed|returned)\b/g;

export const DIM_NOUN = '(product categor(?:y|ies)|categor(?:y|ies)|products?|items?|skus?|articles?|regions?|countr(?:y|ies)|markets?|sales channels?|channels?|customer segments?|segments?|order status(?:es)?|status(?:es)?|days?|weeks?|months?|quarters?|years?)';
export const DIM_RULES: RegExp[] = [
  new RegExp(`\\b(?:by|per|for each|for every|each|every|across(?: all)?(?: the)?|split by|broken down by|break(?: it| that)? down by|breakdown by|grouped by|group by|sliced by)(?: the| all| each| a)? ${DIM_NOUN}\\b`, 'g'),
  new RegExp(`\\b${DIM_NOUN}[- ](?:breakdown|wise|level)\\b`, 'g'),
  new RegExp(`\\b(?:top|best|worst|bottom|highest|lowest|biggest|largest|leading|most popular|least popular|top[- ]selling|best[- ]selling|worst[- ]selling|best[- ]performing|worst[- ]performing)(?:[ -]${NUM})?(?:[ -](?:selling|performing|rated|grossing|earning))? ${DIM_NOUN}\\b`, 'g'),
  new RegExp(`\\b${NUM} (?:best|top|worst|bottom|most|least|highest|lowest)(?:[ -](?:selling|performing|rated|grossing|popular))? ${DIM_NOUN}\\b`, 'g'),
  new RegExp(`\\b(?:which|what)(?: ${NUM})? ${DIM_NOUN}\\b`, 'g'),
  /\b(daily|weekly|monthly|quarterly|yearly|annual|annually|day[- ]by[- ]day|week over week|month over month|quarter over quarter|year over year|yoy)\b/g,
];
export const TREND_RE = /\b(?:trends?|trending|over time|evolution|(?:changed?|evolved?|developed?) over)\b/g;

export const PLURAL_DIM = '(?:categories|products|items|skus|regions|countries|markets|channels|segments|customers|orders|days|weeks|months)';
// [regex, group of the ranking word (0: none), group of the number]
export const LIMIT_RULES: [RegExp, number, number][] = [
  [new RegExp(`\\b(top|bottom|best|worst|highest|lowest|biggest|largest|smallest|leading|first)[ -](${NUM})\\b`, 'g'), 1, 2],
  [new RegExp(`\\b(${NUM}) (best|top|worst|bottom|most|least|highest|lowest|biggest|largest|smallest|fewest)\\b`, 'g'), 2, 1],
  [new RegExp(`\\b(?:which|what|the|show(?: me)?|list|give me) (${NUM}) ${PLURAL_DIM}\\b`, 'g'), 0, 1],
];
export const DESC_WORDS = /\b(?:top|best|highest|most|biggest|largest|leading|greatest|strongest|best[- ]selling|top[- ]selling)\b/g;
export const ASC_WORDS = /\b(?:bottom|worst|lowest|least|fewest|smallest|weakest|slowest|worst[- ]selling)\b/g;
export const ASC_SET = new Set(['bottom', 'worst', 'lowest', 'least', 'fewest', 'smallest']);

export const COMPLAINT_STRONG = /\b(?:broken|broke|damaged|defective|faulty|cracked|shattered|torn|ripped|smashed|wrong (?:item|product|size|colou?r|order|package|parcel|thing)|never (?:arrived|received|came|got|get|showed up|delivered)|still (?:hasn't|has not|haven't|have not|not|hasnt) (?:arrived|come|been delivered)|not (?:received|delivered) yet|scam|scammed|fraud|rip[- ]?off|unacceptable|complaint|complain(?:ing)?|refund (?:now|immediately|asap)|(?:want|demand|need) (?:a|my) refund|money back|(?:doesn't|doesnt|does not|isn't|is not|stopped|not) working|(?:doesn't|doesnt|does not) work|furious|outraged|disgusted|disgusting|worst (?:service|experience|shop|store|company|customer service))\b/g;
export const COMPLAINT_WEAK = /\b(?:late|delayed|terrible|awful|horrible|angry|upset|disappointed|disappointing|unhappy|frustrated|frustrating|fed up|ridiculous|useless|missing|poor (?:quality|service)|still waiting|been waiting|waiting (?:for )?(?:weeks|ages|days|forever)|(?:hasn't|hasnt|has not|didn't|didnt|did not|haven't) (?:arrive|arrived|come|shown up)|not happy|very bad|bad (?:service|quality|experience))\b/g;
// The customer's own voice; "we/our" is the merchant asking about the shop's data.
export const FIRST_PERSON = /\b(?:i|i'm|im|i've|i'd|me|my|mine)\b/;
// A question about the policy for a case is not a complaint: a conditional never ("what happens if my item
// arrives damaged?"), a general question only when the customer does not speak of their own goods.
export const CONDITIONAL = /\b(?:polic(?:y|ies)|what (?:happens|if)|if (?:an?|the|my|it|i) |in case|suppose)\b/;
export const GENERAL_QUESTION = /\b(?:do you|can i|how (?:do|can) i|is it possible|what is your|what's your)\b/;
export const GENERAL_QUESTION_ALL = new RegExp(GENERAL_QUESTION.source, 'g');

export const PURCHASE_RE = /\b(?:i(?:'d| would)? (?:want|like|love) to (?:buy|order|purchase|get)|buy(?:ing)? (?:a|an|the|this|that|some|it|one|two|\d+)\b|can i (?:buy|order)|(?<!\b(?:an|the|my|your|our|this|that|placed) )order (?:a|an|some|one|two)\b|add (?:it |this |that |them )?to (?:my |the )?(?:cart|basket)|(?:make|complete) (?:a|my|the) purchase|purchase (?:a|an|the|this|it)\b|do you (?:sell|carry|stock)|(?:in|out of|back in) stock|available to buy)/;
export const CHART_RE = /\b(?:charts?|graphs?|plot(?:ted)?|visuali[sz]e|visuali[sz]ation|diagram|histogram|pie|bar chart|line chart)\b/;

export const SMALL_TALK = /\b(?:hi+|hey+|hello|hallo|hola|bonjour|salut|ciao|ola|olá|yo|howdy|greetings|good (?:morning|afternoon|evening|night|day)|morning|thanks?|thank you|thx|ty|cheers|merci|danke|gracias|grazie|obrigad[oa]|bedankt|much appreciated|appreciate it|bye|goodbye|good ?bye|see (?:you|ya)|take care|have a (?:nice|good|great) (?:day|one|evening|weekend)|what (?:else )?can you do|what do you do|what can you help (?:me )?with|how can you help(?: me)?|what are you(?: able to do)?|who are you|who made you|how are you(?: doing)?|how's it going|are you (?:a |an )?(?:bot|robot|human|real|real person|ai)|nice to meet you|(?:what|how) about you|and you|you're (?:great|awesome|helpful|the best)|that's (?:all|great|helpful|perfect|it|everything)|helpful|great|perfect|awesome|cool|nice|ok(?:ay)?|got it|sounds good|help)\b/g;
export const SMALL_TALK_FILLER = /\b(?:there|today|again|so|very|really|much|a|lot|lots|for|now|and|the|you|your|please|that|all|me|too|mate|guys|team|bot|assistant|everyone|folks)\b/g;
export const GREETING_PREFIX = /^(?:hi+|hey+|hello|hallo|hola|bonjour|good (?:morning|afternoon|evening)|thanks?|thank you|ok(?:ay)?)\b/;

export const OUT_OF_SCOPE = /\b(?:weather|temperature outside|will it (?:rain|snow)|jokes?|poems?|haiku|limerick|lyrics|(?:write|tell) (?:me )?(?:a |an )?(?:story|essay|song)|python|javascript|typescript|java|c\+\+|golang|html|css|regex|linked list|algorithm|(?:write|fix|debug) (?:me )?(?:a |an |some |my )?(?:code|function|script|program)|politics?|political|elections?|vote|president|prime minister|democrats?|republicans?|who won|final score|scores? of the|champions league|world cup|super bowl|nba|nfl|premier league|olympics|recipes?|how (?:do i|to) (?:cook|bake)|stock price|share price|stock market|shares of|bitcoin price|crypto(?:currency)?|capital of|meaning of life|translate|movies?|horoscope|homework)\b/;

export const ORDER_TRACKING = /\b(?:where(?:'s| is| are)? (?:my|our|the) (?:order|package|parcel|shipment|delivery|stuff|items?)|track(?:ing)? (?:my |the |an |a |this )?(?:order|package|parcel|shipment|delivery)|tracking (?:number|code|link|info|information|status)|order status|status of (?:my |the |an |this )?(?:order|package|parcel|shipment)|(?:has|have|did|is|was|were) (?:my|the) (?:order|package|parcel|shipment|delivery|items?)s? (?:been |already |just )?(?:shipped|delivered|arrived|sent|dispatched|ship|arrive|left|out for delivery|on (?:its|the) way)|when (?:will|does|is|should|can i expect) (?:my |the )?(?:order|package|parcel|shipment|delivery|items?|it|they) (?:arrive|ship|be (?:delivered|shipped|here)|get here|come|expected|due)|(?:check|look up|lookup) (?:on )?(?:my |the |an |this )?order|where is it|where are they|estimated delivery|eta|out for delivery|has it (?:shipped|arrived|been (?:shipped|delivered|sent)))\b/;
export const MY_ORDER = /\bmy (?:order|package|parcel|shipment|delivery|purchase)s?\b/;
export const POLICY_WORDS = /\b(?:polic(?:y|ies)|what happens if|terms (?:and|&) conditions|opening hours|business hours|contact (?:you|support|customer service)|phone number|how do i (?:contact|reach)|gift (?:wrap|wrapping|cards?)|price match)/;
export const ANALYTICS_PHRASING = /\b(?:how many|how much|total|sum|average|compare|comparison|breakdown|break down|trend|growth|increase|decrease|performance|kpis?|report|dashboard|show me|what (?:were|was|are|is) (?:our|the)|did we)\b/;

export const FOLLOW_UP_START = /^(?:and|&|plus|also|but|or|what about|how about|what of|same (?:for|with|but|by|in|thing|question)|the same (?:for|but|by|in)|vs\.?|versus|compared (?:to|with)|against|now|only|just|except|excluding|without|then|ok(?:ay)? (?:and|what|how|now)|instead|what if)\b/;
export const FOLLOW_UP_ANAPHORA = /\b(?:(?:break|split|show|plot|chart|graph|sort|group|filter|compare|do|make|put|display|narrow|limit|repeat|redo|drill)(?: [a-z]+)? (?:it|that|this|them|those|these|the same)\b(?! (?:is|was|are)\b)|how (?:does|did|do) (?:that|it|this|they) compare|(?:the )?same (?:for|but|by|in|as|thing|question)\b|(?:that|it|this) (?:but|by|per|for|in|split by|broken down by) |\binstead$|\b(?:too|as well)$)/;
export const QUESTION_START = /^(?:what|how|who|where|when|why|which|can|could|would|do|does|did|is|are|was|were|show|give|tell|list|compare|i|my|please|hi|hello|hey|thanks?|thank)\b/;
