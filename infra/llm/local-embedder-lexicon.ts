// The local embedder's e-commerce lexicon (data): phrases and words folded to canonical tokens, feature
// weights, number words, and words protected from typo folding. local-embedder.ts hashes what it leaves.

/** Marks a token the phrase rules already canonicalised; the tokenizer's alphabet cannot produce it. */
export const CANON = '_';

/** Multi-word phrases → canonical tokens ('' drops the phrase). Matched longest first, on whole words. */
export const PHRASES: Record<string, string> = {
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
export const PATTERNS: [RegExp, string][] = [
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
export const WORDS: Record<string, string> = {};
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
export const WEIGHTS: Record<string, number> = { product: 0.6, policy: 0.35, customers: 0.8, orders: 0.9, rate: 0.7, average: 0.7 };

export const NUMBER_WORDS: Record<string, string> = {
  zero: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9', ten: '10',
  eleven: '11', twelve: '12', fifteen: '15', twenty: '20', thirty: '30', fifty: '50', hundred: '100', dozen: '12',
};

/** Words close to a lexicon word that must keep their own meaning ("shopping" is not "shipping"). */
export const PROTECTED = new Set('shopping shipper stores stories scales shorts shirts shirt short border borders prices'.split(' '));
