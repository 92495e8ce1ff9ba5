// The deterministic understanding rules: time ranges against a fixed `today`, follow-up inheritance, cache
// signatures, hostile input, and the golden set (test/golden/understanding.json) with its accuracy line.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { detectLanguage } from '../../activities/understanding/language.ts';
import { captureByRules, detectByRules, estimateComplexity, isFollowUp, slotSignature } from '../../activities/understanding/rules.ts';
import type { IntentOrUnknown, SessionContext, Slots, TimeRange } from '../../workflows/shared/understanding.ts';

const TUESDAY = '2026-06-30';
const SATURDAY = '2026-01-03';

function timeOf(message: string, today = TUESDAY): TimeRange | undefined {
  return captureByRules(message, { today }).slots.timeRange;
}

function tr(label: string, start: string, end: string): TimeRange {
  return { label, start, end };
}

/** The signature the cache would use: capture, then the reconciling detect pass. */
function signatureOf(message: string, today = TUESDAY): string {
  const { slots } = captureByRules(message, { today });
  return slotSignature(detectByRules(message, { slots }).intent, slots);
}

describe('time ranges (today = Tuesday 2026-06-30, end exclusive)', () => {
  const cases: [string, TimeRange][] = [
    ['orders today', tr('today', '2026-06-30', '2026-07-01')],
    ['orders yesterday', tr('yesterday', '2026-06-29', '2026-06-30')],
    ['revenue this week', tr('this_week', '2026-06-29', '2026-07-06')],
    ['revenue last week', tr('last_week', '2026-06-22', '2026-06-29')],
    ['revenue the week before last', tr('week_before_last', '2026-06-15', '2026-06-22')],
    ['revenue this month', tr('this_month', '2026-06-01', '2026-07-01')],
    ['revenue last month', tr('last_month', '2026-05-01', '2026-06-01')],
    ['revenue the month before last', tr('month_before_last', '2026-04-01', '2026-05-01')],
    ['revenue this quarter', tr('this_quarter', '2026-04-01', '2026-07-01')],
    ['revenue last quarter', tr('last_quarter', '2026-01-01', '2026-04-01')],
    ['revenue this year', tr('this_year', '2026-01-01', '2027-01-01')],
    ['revenue last year', tr('last_year', '2025-01-01', '2026-01-01')],
    ['revenue year to date', tr('ytd', '2026-01-01', '2026-07-01')],
    ['YTD revenue', tr('ytd', '2026-01-01', '2026-07-01')],
    ['revenue month to date', tr('mtd', '2026-06-01', '2026-07-01')],
    ['revenue in the last 30 days', tr('last_30_days', '2026-06-01', '2026-07-01')],
    ['orders in the past 7 days', tr('last_7_days', '2026-06-24', '2026-07-01')],
    ['orders over the previous 3 months', tr('last_3_months', '2026-03-01', '2026-06-01')],
    ['orders in the last two weeks', tr('last_2_weeks', '2026-06-15', '2026-06-29')],
    ['revenue in March', tr('2026-03', '2026-03-01', '2026-04-01')],
    ['revenue March 2026', tr('2026-03', '2026-03-01', '2026-04-01')],
    ['revenue in march last year', tr('2025-03', '2025-03-01', '2025-04-01')],
    ['revenue in December', tr('2025-12', '2025-12-01', '2026-01-01')],
    ['revenue in June', tr('2026-06', '2026-06-01', '2026-07-01')],
    ['revenue in Q3', tr('2025-Q3', '2025-07-01', '2025-10-01')],
    ['revenue Q1 2025', tr('2025-Q1', '2025-01-01', '2025-04-01')],
    ['revenue in the second quarter', tr('2026-Q2', '2026-04-01', '2026-07-01')],
    ['revenue in 2025', tr('2025', '2025-01-01', '2026-01-01')],
    ['revenue since March', tr('since_2026-03-01', '2026-03-01', '2026-07-01')],
    ['revenue from 2026-01-01 to 2026-02-15', tr('2026-01-01..2026-02-15', '2026-01-01', '2026-02-16')],
    ['revenue between Jan 5 and Jan 20', tr('2026-01-05..2026-01-20', '2026-01-05', '2026-01-21')],
    ['revenue on 2026-03-14', tr('2026-03-14', '2026-03-14', '2026-03-15')],
    ['revenue from March to May', tr('2026-03-01..2026-05-31', '2026-03-01', '2026-06-01')],
    ['revenue in H1', tr('2026-H1', '2026-01-01', '2026-07-01')],
  ];
  for (const [message, expected] of cases) {
    it(`${message} → ${expected.label}`, () => assert.deepEqual(timeOf(message), expected));
  }

  it('resolves across a year boundary (today = Saturday 2026-01-03)', () => {
    assert.deepEqual(timeOf('sales this week', SATURDAY), tr('this_week', '2025-12-29', '2026-01-05'));
    assert.deepEqual(timeOf('sales last week', SATURDAY), tr('last_week', '2025-12-22', '2025-12-29'));
    assert.deepEqual(timeOf('sales the week before last', SATURDAY), tr('week_before_last', '2025-12-15', '2025-12-22'));
    assert.deepEqual(timeOf('sales last month', SATURDAY), tr('last_month', '2025-12-01', '2026-01-01'));
    assert.deepEqual(timeOf('sales the month before last', SATURDAY), tr('month_before_last', '2025-11-01', '2025-12-01'));
    assert.deepEqual(timeOf('sales last quarter', SATURDAY), tr('last_quarter', '2025-10-01', '2026-01-01'));
    assert.deepEqual(timeOf('sales ytd', SATURDAY), tr('ytd', '2026-01-01', '2026-01-04'));
    assert.deepEqual(timeOf('sales in the last 7 days', SATURDAY), tr('last_7_days', '2025-12-28', '2026-01-04'));
    assert.deepEqual(timeOf('sales in March', SATURDAY), tr('2025-03', '2025-03-01', '2025-04-01'));
    assert.deepEqual(timeOf('sales between Dec 20 and Jan 2', SATURDAY), tr('2025-12-20..2026-01-02', '2025-12-20', '2026-01-03'));
  });

  it('puts Sunday in the week that began on Monday, and Monday in a new one', () => {
    assert.deepEqual(timeOf('orders this week', '2026-06-28'), tr('this_week', '2026-06-22', '2026-06-29'));
    assert.deepEqual(timeOf('orders this week', '2026-06-29'), tr('this_week', '2026-06-29', '2026-07-06'));
  });

  it('handles month ends and leap years', () => {
    assert.deepEqual(timeOf('revenue last month', '2026-03-31'), tr('last_month', '2026-02-01', '2026-03-01'));
    assert.deepEqual(timeOf('revenue in February 2028', TUESDAY), tr('2028-02', '2028-02-01', '2028-03-01'));
    assert.equal(timeOf('revenue on 2026-02-30'), undefined, 'an impossible date is no range');
  });

  it('resolves near-misses differently', () => {
    const ranges = ['sales this week', 'sales last week', 'sales the week before last', 'sales last month', 'sales in the last 30 days'].map((m) => timeOf(m));
    const keys = ranges.map((r) => `${r?.start}..${r?.end}`);
    assert.equal(new Set(keys).size, keys.length, keys.join(' | '));
  });

  it('does not read "may" the verb, amounts or order numbers as dates', () => {
    assert.equal(timeOf('may I return this jacket?'), undefined);
    assert.equal(timeOf('orders over 2000 units'), undefined);
    assert.deepEqual(timeOf('revenue in May'), tr('2026-05', '2026-05-01', '2026-06-01'));
  });

  it('leaves the range out when today is not a date', () => {
    assert.equal(captureByRules('revenue last week', { today: 'soon' }).slots.timeRange, undefined);
    assert.equal(captureByRules('revenue last week', { today: 'soon' }).slots.metric, 'revenue');
  });
});

describe('slot capture', () => {
  it('reads metric synonyms, and tells the returns metric from the returns policy', () => {
    const metricOf = (m: string) => captureByRules(m, { today: TUESDAY }).slots.metric;
    assert.equal(metricOf('What was our turnover last week?'), 'revenue');
    assert.equal(metricOf('How much did we sell yesterday?'), 'revenue');
    assert.equal(metricOf('GMV this month'), 'revenue');
    assert.equal(metricOf('number of orders in May'), 'orders');
    assert.equal(metricOf('how many items did we sell'), 'units');
    assert.equal(metricOf('average basket this year'), 'aov');
    assert.equal(metricOf('average order value by channel'), 'aov');
    assert.equal(metricOf('average stars for Books'), 'rating');
    assert.equal(metricOf('return rate by category'), 'returns');
    assert.equal(metricOf('cancelled orders last week'), 'cancellations');
    assert.equal(metricOf('how many new customers did we get'), 'customers');
    assert.equal(metricOf('revenue from delivered orders'), 'revenue');
    const policy = captureByRules("What's your return policy?", { today: TUESDAY }).slots;
    assert.equal(policy.topic, 'returns');
    assert.equal(policy.metric, undefined);
  });

  it('reads dimensions, top/bottom N and filters with stored values', () => {
    const s = captureByRules('top 5 products in Home and Kitchen for B2B buyers via the app in the UK', { today: TUESDAY }).slots;
    assert.equal(s.dimension, 'product');
    assert.equal(s.limit, 5);
    assert.equal(s.order, 'desc');
    assert.deepEqual(s.filters, { country: ['GB'], channel: ['mobile'], segment: ['business'], category: ['Home & Kitchen'] });
    const worst = captureByRules('worst 3 categories across LATAM and APAC', { today: TUESDAY }).slots;
    assert.deepEqual([worst.dimension, worst.limit, worst.order], ['category', 3, 'asc']);
    assert.deepEqual(worst.filters?.region, ['Asia Pacific', 'Latin America']);
    assert.equal(captureByRules('month over month revenue', { today: TUESDAY }).slots.dimension, 'month');
    assert.equal(captureByRules('revenue for each category', { today: TUESDAY }).slots.dimension, 'category');
  });

  it('reads order ids, product ids, SKUs and leftover numbers', () => {
    const s = captureByRules('order #48213 and order number 5120 had product 17 (ELE-10042) for $1,249.99 x 3', { today: TUESDAY }).slots;
    assert.deepEqual(s.entities, { orderIds: [48213, 5120], productIds: [17], skus: ['ELE-10042'] });
    assert.deepEqual(s.numbers, [1249.99, 3]);
    assert.equal(captureByRules('an order 5 days ago', { today: TUESDAY }).slots.entities, undefined);
  });

  it('flags complaints, purchases and charts, but not a policy question about damage', () => {
    const flags = (m: string) => captureByRules(m, { today: TUESDAY }).slots;
    assert.equal(flags('My blender arrived broken, I want a refund now').complaint, true);
    assert.equal(flags('What is your refund policy for damaged items?').complaint, undefined);
    assert.equal(flags('I want to buy a blender, is it in stock?').purchase, true);
    assert.equal(flags('plot revenue by month').chart, true);
  });
});

describe('follow-ups', () => {
  const previous: SessionContext = {
    intent: 'analytics',
    slots: { metric: 'revenue', dimension: 'region', timeRange: tr('last_week', '2026-06-22', '2026-06-29'), filters: { channel: ['web'] } },
  };

  it('recognises follow-up phrasing and not standalone questions', () => {
    for (const m of ['and last month?', 'what about Europe?', 'same for electronics', 'how about by channel', 'and the top 10?', 'vs last year?', 'Europe?', 'break it down by category', 'Thanks! And what about Q1?']) {
      assert.equal(isFollowUp(m), true, m);
    }
    for (const m of ['What were sales last week?', 'hi', 'thank you', 'Where is my order 123?', 'top 5 products last month', "What's your return policy?", '']) {
      assert.equal(isFollowUp(m), false, m);
    }
  });

  it('inherits what the message leaves unsaid and lists it', () => {
    const r = captureByRules('and last month?', { today: TUESDAY, previous });
    assert.deepEqual(r.slots.timeRange, tr('last_month', '2026-05-01', '2026-06-01'));
    assert.equal(r.slots.metric, 'revenue');
    assert.deepEqual(r.inherited, ['metric', 'dimension', 'filters']);
    assert.equal(r.source, 'rules');
  });

  it('drops a breakdown the new filter makes pointless, and a region the new country is not in', () => {
    const europe = captureByRules('what about Europe?', { today: TUESDAY, previous });
    assert.equal(europe.slots.dimension, undefined);
    assert.deepEqual(europe.slots.filters, { region: ['Europe'], channel: ['web'] });
    const prevEurope: SessionContext = { intent: 'analytics', slots: { metric: 'orders', filters: { region: ['Europe'] } } };
    assert.deepEqual(captureByRules('and in Japan?', { today: TUESDAY, previous: prevEurope }).slots.filters, { country: ['JP'] });
    assert.deepEqual(captureByRules('and in Germany?', { today: TUESDAY, previous: prevEurope }).slots.filters, { region: ['Europe'], country: ['DE'] });
  });

  it('does not inherit into a standalone question or across a change of subject', () => {
    const standalone = captureByRules('How many orders did we get yesterday?', { today: TUESDAY, previous });
    assert.deepEqual(standalone.inherited, []);
    assert.equal(standalone.slots.dimension, undefined);
    const policy = captureByRules('what about shipping?', { today: TUESDAY, previous });
    assert.equal(policy.slots.topic, 'shipping');
    assert.equal(policy.slots.metric, undefined);
  });

  it('is honestly unsure of a fragment alone, and sure once it has the inherited slots', () => {
    for (const m of ['and last month?', 'what about Europe?', 'and the top 10?']) {
      const first = detectByRules(m);
      assert.ok(first.confidence < 0.7, `${m}: ${first.confidence}`);
      const { slots } = captureByRules(m, { today: TUESDAY, previous });
      const second = detectByRules(m, { slots });
      assert.equal(second.intent, 'analytics', m);
      assert.ok(second.confidence >= 0.8, `${m}: ${second.confidence}`);
    }
  });
});

describe('intent detection', () => {
  it('is confident on strong signals', () => {
    const cases: [string, IntentOrUnknown][] = [
      ['What were our sales last week by region?', 'analytics'],
      ["What's your return policy?", 'knowledge'],
      ['Where is my order 48213?', 'order_status'],
      ['My order 123 arrived broken', 'complaint'],
      ['Hello there!', 'small_talk'],
      ['Tell me a joke', 'out_of_scope'],
    ];
    for (const [m, intent] of cases) {
      const r = detectByRules(m);
      assert.equal(r.intent, intent, m);
      assert.ok(r.confidence >= 0.85, `${m}: ${r.confidence}`);
      assert.equal(r.source, 'rules');
    }
  });

  it('uses the slots of the reconciling pass', () => {
    assert.equal(detectByRules('and that one?', { slots: { entities: { orderIds: [5] } } }).intent, 'order_status');
    assert.equal(detectByRules('and that one?', { slots: { topic: 'warranty' } }).intent, 'knowledge');
    assert.equal(detectByRules('and that one?', { slots: { complaint: true } }).intent, 'complaint');
  });

  it('estimates complexity', () => {
    assert.equal(estimateComplexity('thanks!'), 'trivial');
    assert.equal(estimateComplexity('What were sales last week?', { metric: 'revenue' }), 'simple');
    const long =
      'Can you give me a full report comparing revenue and orders by region for this quarter versus last quarter? Why did Europe drop? What should we do about it?';
    assert.ok(['complex', 'comprehensive'].includes(estimateComplexity(long)), estimateComplexity(long));
  });

  it('detects languages by stopwords and scripts', () => {
    const cases: [string, string][] = [
      ['What were our sales last week?', 'en'],
      ['Wie hoch war der Umsatz letzte Woche?', 'de'],
      ['Où est ma commande ?', 'fr'],
      ['¿Dónde está mi pedido?', 'es'],
      ['Quanto abbiamo venduto il mese scorso?', 'it'],
      ['Waar is mijn bestelling?', 'nl'],
      ['Onde está o meu pedido? Obrigado', 'pt'],
      ['先週の売上はいくらでしたか', 'ja'],
      ['上周的销售额是多少', 'zh'],
      ['지난주 매출은 얼마였나요', 'ko'],
      ['Какие продажи были на прошлой неделе?', 'ru'],
      ['ما هي مبيعات الأسبوع الماضي؟', 'ar'],
      ['', 'und'],
      ['👍🎉', 'und'],
      ['12345', 'und'],
    ];
    for (const [text, lang] of cases) assert.equal(detectLanguage(text), lang, text);
  });
});

describe('slot signatures', () => {
  it('are equal for paraphrases', () => {
    const pairs: [string, string][] = [
      ['What were our sales last week?', 'How much revenue did we make last week?'],
      ['Top 5 products by revenue this month', 'Which 5 products made the most money this month?'],
      ['How many orders did we get yesterday?', 'Number of orders yesterday'],
      ['Show me revenue by category for last month', "Break down last month's sales per product category"],
      ['Online sales yesterday', 'How much revenue did the website make yesterday?'],
      ['revenue in Europe and Asia Pacific', 'revenue in APAC and Europe'],
      ['Where is my order 12345?', "What's the status of order #12345?"],
    ];
    for (const [a, b] of pairs) assert.equal(signatureOf(a), signatureOf(b), `${a} | ${b}`);
  });

  it('differ for near-misses', () => {
    const pairs: [string, string][] = [
      ['Sales last week', 'Sales the week before last'],
      ['Sales last week', 'Sales this week'],
      ['Sales last month', 'Sales in the last 30 days'],
      ['Top 5 products by revenue this month', 'Top 10 products by revenue this month'],
      ['Top 5 products by revenue this month', 'Bottom 5 products by revenue this month'],
      ['Revenue in Europe last quarter', 'Revenue in Asia Pacific last quarter'],
      ['Revenue by category last month', 'Revenue by region last month'],
      ['Revenue by category last month', 'Orders by category last month'],
      ["What's your return policy?", "What's your warranty policy?"],
      ['Where is my order 123?', 'Where is my order 124?'],
    ];
    for (const [a, b] of pairs) assert.notEqual(signatureOf(a), signatureOf(b), `${a} | ${b}`);
  });

  it('ignore numbers, purchase, chart and the label, and the order of filter values', () => {
    const base: Slots = { metric: 'revenue', timeRange: tr('last_30_days', '2026-06-01', '2026-07-01'), filters: { region: ['Europe', 'Asia Pacific'] } };
    const same: Slots = {
      filters: { region: ['Asia Pacific', 'Europe'] },
      timeRange: tr('this_month', '2026-06-01', '2026-07-01'),
      metric: 'revenue',
      numbers: [3],
      chart: true,
      purchase: false,
    };
    assert.equal(slotSignature('analytics', base), slotSignature('analytics', same));
    assert.notEqual(slotSignature('analytics', base), slotSignature('knowledge', base));
    assert.notEqual(slotSignature('complaint', { complaint: true }), slotSignature('complaint', {}));
  });
});

describe('hostile input', () => {
  const inputs = [
    '',
    '   ',
    '😀🎉👍',
    '\u0000\u0007\u001b[31m\u200b\ufeff',
    'x'.repeat(4000),
    'a'.repeat(3999) + '!',
    'order '.repeat(700),
    '#1 '.repeat(1300),
    '1,'.repeat(2000),
    'top 5 '.repeat(600),
    'jan 5 to '.repeat(400),
    '2026-01-01 to '.repeat(300),
    'last '.repeat(800),
    'Revenue 売上 выручка الإيرادات 매출 '.repeat(100),
    '\ud800'.repeat(1000),
    'q1 2025 '.repeat(500),
    undefined as unknown as string,
  ];

  it('never throws', () => {
    const previous: SessionContext = { intent: 'analytics', slots: { metric: 'revenue', filters: { region: ['Europe'] } } };
    for (const text of inputs) {
      const capture = captureByRules(text, { today: TUESDAY, previous });
      const detect = detectByRules(text);
      detectByRules(text, { slots: capture.slots });
      isFollowUp(text);
      detectLanguage(text);
      estimateComplexity(text, capture.slots);
      slotSignature(detect.intent, capture.slots);
      assert.ok(detect.confidence >= 0 && detect.confidence <= 1);
    }
  });
});

interface GoldenCase {
  id: string;
  tenant: string;
  today: string;
  message: string;
  previous: SessionContext | null;
  expect: { intent: IntentOrUnknown; slots: Record<string, unknown>; followUp: boolean };
}

/** Filter values are sets: compare them sorted. */
function comparable(key: string, value: unknown): unknown {
  if (key !== 'filters' || value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, Array.isArray(v) ? [...v].sort() : v]));
}

describe('golden set', () => {
  it('meets the accuracy bar', () => {
    const golden = JSON.parse(readFileSync(new URL('../golden/understanding.json', import.meta.url), 'utf8')) as GoldenCase[];
    let detectOk = 0;
    let captureOk = 0;
    let followUpOk = 0;
    const misses: string[] = [];
    for (const c of golden) {
      const capture = captureByRules(c.message, { today: c.today, previous: c.previous });
      const detect = detectByRules(c.message, { slots: capture.slots });
      const followUp = isFollowUp(c.message);
      const got = capture.slots as Record<string, unknown>;
      const wrongSlots = Object.entries(c.expect.slots).filter(([k, v]) => !isDeepStrictEqual(comparable(k, got[k]), comparable(k, v)));
      if (detect.intent === c.expect.intent) detectOk++;
      else misses.push(`${c.id} intent ${detect.intent} (${detect.confidence}), expected ${c.expect.intent}: ${c.message}`);
      if (wrongSlots.length === 0) captureOk++;
      else misses.push(`${c.id} slots ${wrongSlots.map(([k]) => `${k}=${JSON.stringify(got[k])}`).join(' ')}: ${c.message}`);
      if (followUp === c.expect.followUp) followUpOk++;
      else misses.push(`${c.id} followUp ${followUp}: ${c.message}`);
    }
    const pct = (n: number): string => `${((100 * n) / golden.length).toFixed(1)}%`;
    console.log(`understanding golden set: ${golden.length} cases, detect ${pct(detectOk)}, capture ${pct(captureOk)}, follow-up ${pct(followUpOk)}`);
    for (const miss of misses) console.log(`  miss ${miss}`);
    assert.ok(golden.length >= 70);
    assert.ok(detectOk / golden.length >= 0.9, 'detect accuracy');
    assert.ok(captureOk / golden.length >= 0.85, 'capture accuracy');
  });
});

describe('qualifiers', () => {
  const q = (message: string) => captureByRules(message, { today: '2026-06-30' }).slots.qualifiers ?? [];
  it('capture the details that change an answer but have no slot of their own', () => {
    assert.deepEqual(q('How many new customers did we get this month?'), ['customers:new']);
    assert.deepEqual(q('How many returning customers did we get this month?'), ['customers:returning']);
    assert.deepEqual(q('What does shipping cost?'), ['aspect:cost']);
    assert.deepEqual(q('How long does shipping take?'), ['aspect:time']);
    assert.deepEqual(q('Can I exchange a jacket?'), ['action:exchange']);
    assert.deepEqual(q('Please cancel order 5521'), ['action:cancel']);
    assert.deepEqual(q('AOV this month compared to last month'), ['compare']);
    assert.deepEqual(q('How many cancelled orders last week?'), [], '"cancelled" is a status, not an action');
  });
  it('make near misses differ in signature', () => {
    const sig = (m: string) => {
      const { slots } = captureByRules(m, { today: '2026-06-30' });
      return slotSignature(detectByRules(m, { slots }).intent, slots);
    };
    assert.notEqual(sig('How many new customers this month?'), sig('How many returning customers this month?'));
    assert.notEqual(sig('What is the shipping cost?'), sig('What is the shipping time?'));
    assert.notEqual(sig('Can I return shoes?'), sig('Can I exchange shoes?'));
    assert.notEqual(sig('Status of order 5521'), sig('Cancel order 5521'));
  });
});
