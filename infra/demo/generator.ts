// Deterministic demo shop data for each tenant's analytics schema: categories, products, customers,
// two years of orders with their items, and reviews. Everything is generated in memory from a seeded
// PRNG and an anchor day, loaded by the tenant capability (activities/tenant/analytics-schema.ts) with a handful of `unnest` statements, so seeding takes
// seconds even on PGlite (single-threaded WASM behind the wire protocol, where round-trips dominate).
import { CATEGORIES, COUNTRIES_BY_REGION, REGIONS, type Region } from '../../workflows/shared/shop-vocabulary.ts';
import { TENANT_ID_PATTERN } from '../../workflows/shared/contract.ts';
import { CATALOG, COUNTRY_CULTURE, COUNTRY_WEIGHTS, makeEmail, NAME_LISTS, productName, reviewText, type Category } from './catalogue.ts';
import { countBelow, cumulative, fnv1a, Rng } from './random.ts';

export interface GeneratedTenantData {
  tenantId: string;
  seed: number;
  /** The anchor day (UTC midnight); orders fall in [windowStart, anchorDate). */
  anchorDate: string;
  windowStart: string;
  categories: { id: number[]; name: string[] };
  products: { id: number[]; sku: string[]; name: string[]; category_id: number[]; price_cents: number[]; created_at: string[] };
  customers: { id: number[]; name: string[]; email: string[]; country: string[]; region: string[]; segment: string[]; signup_at: string[] };
  orders: { id: number[]; customer_id: number[]; status: string[]; channel: string[]; ordered_at: string[]; total_cents: number[] };
  order_items: { order_id: number[]; product_id: number[]; quantity: number[]; unit_price_cents: number[] };
  reviews: { id: number[]; product_id: number[]; customer_id: number[]; rating: number[]; title: string[]; body: string[]; created_at: string[] };
}

const DEFAULT_BASE_SEED = 20260101;
const DAY_MS = 86_400_000;
const WINDOW_MONTHS = 24;

// Tenant profiles: the two demo shops differ in size, mix and growth, so their answers differ too.
// Tenant profiles: the two demo shops differ in size, mix and growth, so their answers differ too.

interface TenantProfile {
  customers: [number, number];
  orders: [number, number];
  /** Order volume multiplier per year. */
  yearlyGrowth: number;
  regionWeights: Record<Region, number>;
  categoryWeights: Record<Category, number>;
  /** Mobile share of orders at the window start and at the anchor. */
  mobileShare: [number, number];
  storeShare: number;
  businessShare: number;
}

const PROFILES: Record<string, TenantProfile> = {
  acme: {
    customers: [4200, 4800],
    orders: [22_000, 23_500],
    yearlyGrowth: 1.38,
    regionWeights: { 'North America': 58, Europe: 20, 'Asia Pacific': 12, 'Latin America': 10 },
    categoryWeights: {
      Electronics: 1.0, 'Home & Kitchen': 0.8, Apparel: 1.6, Beauty: 0.7, 'Sports & Outdoors': 1.6, Toys: 0.6, Books: 0.7, Grocery: 0.6,
    },
    mobileShare: [0.26, 0.4],
    storeShare: 0.12,
    businessShare: 0.12,
  },
  globex: {
    customers: [5200, 5800],
    orders: [24_500, 26_000],
    yearlyGrowth: 1.22,
    regionWeights: { 'North America': 40, Europe: 30, 'Asia Pacific': 18, 'Latin America': 12 },
    categoryWeights: {
      Electronics: 1.3, 'Home & Kitchen': 1.4, Apparel: 0.9, Beauty: 1.1, 'Sports & Outdoors': 0.8, Toys: 1.0, Books: 0.9, Grocery: 1.5,
    },
    mobileShare: [0.32, 0.46],
    storeShare: 0.06,
    businessShare: 0.2,
  },
};

/** Any other tenant gets a profile drawn from its own seed. */
function randomProfile(rng: Rng): TenantProfile {
  const categoryWeights = Object.fromEntries(CATEGORIES.map((c) => [c, rng.range(0.6, 1.6)])) as Record<Category, number>;
  return {
    customers: [4000, 6000],
    orders: [22_000, 26_000],
    yearlyGrowth: rng.range(1.1, 1.5),
    regionWeights: { 'North America': rng.int(30, 60), Europe: rng.int(15, 35), 'Asia Pacific': rng.int(8, 20), 'Latin America': rng.int(6, 15) },
    categoryWeights,
    mobileShare: [rng.range(0.2, 0.35), rng.range(0.38, 0.5)],
    storeShare: rng.range(0.04, 0.14),
    businessShare: rng.range(0.1, 0.22),
  };
}

// Calendar
// Calendar

function utcMidnight(date: Date): Date {
  if (Number.isNaN(date.getTime())) throw new Error('anchorDate is not a valid date');
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

function monthsBefore(date: Date, months: number): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - months, date.getUTCDate()));
}

/** Black Friday (day after the fourth Thursday of November) of a year, as a UTC day timestamp. */
function blackFriday(year: number): number {
  const nov1 = new Date(Date.UTC(year, 10, 1)).getUTCDay();
  const firstThursday = 1 + ((4 - nov1 + 7) % 7);
  return Date.UTC(year, 10, firstThursday + 21 + 1);
}

// Sunday first, as getUTCDay counts.
const WEEKDAY_FACTOR = [1.18, 1.06, 0.97, 0.95, 0.98, 1.02, 1.12];
const MONTH_FACTOR = [0.82, 0.84, 0.93, 0.95, 1.0, 0.97, 1.03, 1.0, 0.94, 1.02, 1.32, 1.5];
// Shoppers buy at lunch and in the evening; UTC hours, all regions pooled.
const HOUR_WEIGHTS = [4, 3, 2, 1.5, 1.2, 1.2, 1.8, 3, 4.5, 5.5, 6, 6.5, 7, 7.2, 7, 6.5, 6.5, 7, 8, 9, 9.5, 9, 7.5, 5.5];
const HOUR_CUM = cumulative(HOUR_WEIGHTS);

/** Relative order volume of each day of the window: growth trend × weekday × month × holiday spikes × noise. */
function dayWeights(rng: Rng, start: number, days: number, yearlyGrowth: number): Float64Array {
  const spikes = new Map<number, number>();
  const first = new Date(start).getUTCFullYear();
  for (let year = first; year <= first + 3; year++) {
    const bf = blackFriday(year);
    spikes.set(bf, 2.6); // Black Friday
    spikes.set(bf + DAY_MS, 1.9);
    spikes.set(bf + 2 * DAY_MS, 1.7);
    spikes.set(bf + 3 * DAY_MS, 2.3); // Cyber Monday
    for (let d = 10; d <= 20; d++) spikes.set(Date.UTC(year, 11, d), 1.25); // last shipping days before the holidays
    spikes.set(Date.UTC(year, 11, 24), 0.7);
    spikes.set(Date.UTC(year, 11, 25), 0.5);
    spikes.set(Date.UTC(year, 11, 26), 1.15);
  }
  const weights = new Array<number>(days);
  for (let i = 0; i < days; i++) {
    const ts = start + i * DAY_MS;
    const d = new Date(ts);
    const growth = Math.pow(yearlyGrowth, i / 365);
    weights[i] = growth * WEEKDAY_FACTOR[d.getUTCDay()]! * MONTH_FACTOR[d.getUTCMonth()]! * (spikes.get(ts) ?? 1) * rng.range(0.88, 1.12);
  }
  return cumulative(weights);
}

/** A timestamp (whole seconds) on a day drawn from the day weights. */
function drawTimestamp(rng: Rng, start: number, dayCum: Float64Array): number {
  const day = rng.index(dayCum);
  const hour = rng.index(HOUR_CUM);
  return start + day * DAY_MS + hour * 3_600_000 + rng.int(0, 3599) * 1000;
}

const iso = (ms: number) => new Date(ms).toISOString();

// Generation

/** Pure generator (no I/O): returns all rows for one tenant; same tenant, seed and anchor day give identical data. */
export function generateTenantData(tenantId: string, opts: { anchorDate: Date; baseSeed?: number }): GeneratedTenantData {
  if (!TENANT_ID_PATTERN.test(tenantId)) throw new Error(`invalid tenant id ${JSON.stringify(tenantId)}: expected ${TENANT_ID_PATTERN}`);
  const seed = (fnv1a(tenantId) ^ Math.imul((opts.baseSeed ?? DEFAULT_BASE_SEED) >>> 0, 0x9e3779b1)) >>> 0;
  const rng = new Rng(seed);
  const anchor = utcMidnight(opts.anchorDate).getTime();
  const start = monthsBefore(new Date(anchor), WINDOW_MONTHS).getTime();
  const days = Math.round((anchor - start) / DAY_MS);
  const profile = PROFILES[tenantId] ?? randomProfile(rng);
  const dayCum = dayWeights(rng, start, days, profile.yearlyGrowth);

  // Categories
  const categories = { id: CATEGORIES.map((_, i) => i + 1), name: [...CATEGORIES] };

  // Products: most predate the window, the rest launch during it; ids follow launch order so a
  // prefix of the arrays is "what was on sale" at any moment.
  const drafts: { name: string; category: Category; noun: string; cents: number; createdAt: number; popularity: number; quality: number }[] = [];
  const usedNames = new Set<string>();
  for (const category of CATEGORIES) {
    const weight = profile.categoryWeights[category];
    const count = Math.round(28 + 10 * weight + rng.int(0, 8));
    for (let n = 0; n < count; n++) {
      const type = rng.pick(CATALOG[category].types);
      let name = productName(rng, category, type);
      for (let tries = 0; usedNames.has(name) && tries < 20; tries++) name = productName(rng, category, type);
      if (usedNames.has(name)) continue;
      usedNames.add(name);
      const dollars = type[2] * rng.range(0.75, 1.35);
      const cents = Math.max(199, Math.round(dollars) * 100 - (rng.chance(0.85) ? 1 : 0));
      const createdAt = rng.chance(0.58)
        ? start - rng.int(14, 3 * 365) * DAY_MS - rng.int(0, 86_399) * 1000
        : start + rng.int(0, days - 1) * DAY_MS + rng.int(0, 86_399) * 1000;
      // A few bestsellers, a long tail: popularity is heavy-tailed within each category.
      const popularity = weight * Math.pow(rng.next() + 0.02, 2.2) * 10;
      drafts.push({ name, category, noun: type[1], cents, createdAt, popularity, quality: rng.range(-0.6, 0.5) });
    }
  }
  drafts.sort((a, b) => a.createdAt - b.createdAt);
  const products: GeneratedTenantData['products'] = { id: [], sku: [], name: [], category_id: [], price_cents: [], created_at: [] };
  drafts.forEach((p, i) => {
    const categoryId = CATEGORIES.indexOf(p.category) + 1;
    products.id.push(i + 1);
    products.sku.push(`${CATALOG[p.category].code}-${String(10000 + i + 1)}`);
    products.name.push(p.name);
    products.category_id.push(categoryId);
    products.price_cents.push(p.cents);
    products.created_at.push(iso(p.createdAt));
  });
  const productLaunch = drafts.map((p) => p.createdAt);
  const productCum = cumulative(drafts.map((p) => p.popularity));

  // Customers: a base that signed up before the window, then sign-ups that follow the order curve.
  const customerCount = rng.int(profile.customers[0], profile.customers[1]);
  const regionEntries = REGIONS.map((r) => [r, profile.regionWeights[r]] as const);
  const countryEntries = Object.fromEntries(
    REGIONS.map((r) => [r, COUNTRIES_BY_REGION[r].map((c) => [c, COUNTRY_WEIGHTS[c] ?? 1] as const)]),
  ) as Record<Region, (readonly [string, number])[]>;
  const people: { name: string; email: string; country: string; region: Region; segment: string; signupAt: number; activity: number }[] = [];
  const emails = new Set<string>();
  for (let i = 0; i < customerCount; i++) {
    const region = rng.weighted(regionEntries);
    const country = rng.weighted(countryEntries[region]);
    const names = NAME_LISTS[COUNTRY_CULTURE[country] ?? 'anglo']!;
    const first = rng.pick(names.first);
    const last = rng.pick(names.last);
    const business = rng.chance(profile.businessShare);
    const signupAt = rng.chance(0.3)
      ? start - rng.int(1, 3 * 365) * DAY_MS - rng.int(0, 86_399) * 1000
      : drawTimestamp(rng, start, dayCum) - rng.int(0, 7) * DAY_MS;
    // Exponential activity: most customers buy a few times, some are regulars; businesses reorder more.
    const activity = -Math.log(1 - rng.next() * 0.999) * (business ? 2.5 : 1);
    people.push({ name: `${first} ${last}`, email: makeEmail(rng, first, last, emails), country, region, segment: business ? 'business' : 'consumer', signupAt, activity });
  }
  people.sort((a, b) => a.signupAt - b.signupAt);
  const customers: GeneratedTenantData['customers'] = { id: [], name: [], email: [], country: [], region: [], segment: [], signup_at: [] };
  people.forEach((p, i) => {
    customers.id.push(i + 1);
    customers.name.push(p.name);
    customers.email.push(p.email);
    customers.country.push(p.country);
    customers.region.push(p.region);
    customers.segment.push(p.segment);
    customers.signup_at.push(iso(p.signupAt));
  });
  const customerSignup = people.map((p) => p.signupAt);
  const customerCum = cumulative(people.map((p) => p.activity));

  // Orders, in time order so ids grow with ordered_at.
  const orderCount = rng.int(profile.orders[0], profile.orders[1]);
  const times = new Float64Array(orderCount);
  for (let i = 0; i < orderCount; i++) times[i] = drawTimestamp(rng, start, dayCum);
  times.sort();
  const orders: GeneratedTenantData['orders'] = { id: [], customer_id: [], status: [], channel: [], ordered_at: [], total_cents: [] };
  const items: GeneratedTenantData['order_items'] = { order_id: [], product_id: [], quantity: [], unit_price_cents: [] };
  const reviewDrafts: { productId: number; customerId: number; rating: number; title: string; body: string; createdAt: number }[] = [];
  const reviewed = new Set<string>();
  const apparelId = CATEGORIES.indexOf('Apparel') + 1;
  const groceryId = CATEGORIES.indexOf('Grocery') + 1;
  for (let i = 0; i < orderCount; i++) {
    const orderId = i + 1;
    const t = times[i]!;
    const progress = (t - start) / (anchor - start);
    const customerIdx = rng.index(customerCum, Math.max(1, countBelow(customerSignup, t)));
    const business = people[customerIdx]!.segment === 'business';
    const mobile = profile.mobileShare[0] + (profile.mobileShare[1] - profile.mobileShare[0]) * progress;
    const store = business ? profile.storeShare / 3 : profile.storeShare;
    const channel = rng.weighted([['web', 1 - mobile - store], ['mobile', business ? mobile / 2 : mobile], ['store', store]] as const);

    // Sale season: more and deeper discounts in late November and December.
    const month = new Date(t).getUTCMonth();
    const discountRate = month === 10 || month === 11 ? 0.25 : 0.08;
    const lines = rng.weighted([[1, 45], [2, 30], [3, 17], [4, 8]] as const);
    const available = Math.max(1, countBelow(productLaunch, t));
    const chosen: number[] = [];
    let total = 0;
    let hasApparel = false;
    for (let tries = 0; chosen.length < lines && tries < 20; tries++) {
      const p = rng.index(productCum, available);
      if (chosen.includes(p)) continue;
      chosen.push(p);
      const categoryId = products.category_id[p]!;
      hasApparel ||= categoryId === apparelId;
      let quantity = rng.weighted([[1, 80], [2, 15], [3, 5]] as const);
      if (categoryId === groceryId) quantity += rng.int(0, 2);
      if (business && rng.chance(0.35)) quantity *= rng.int(2, 5);
      const price = products.price_cents[p]!;
      const unit = rng.chance(discountRate) ? Math.round((price * (100 - rng.pick([10, 15, 20, 25, 30]))) / 100) : price;
      items.order_id.push(orderId);
      items.product_id.push(p + 1);
      items.quantity.push(quantity);
      items.unit_price_cents.push(unit);
      total += quantity * unit;
    }

    // Fulfilment follows age: the last days are still placed or in transit; returns come later.
    const age = (anchor - t) / DAY_MS;
    let status: string;
    if (rng.chance(0.05)) status = 'cancelled';
    else if (age < 1.5) status = rng.chance(0.7) ? 'placed' : 'shipped';
    else if (age < 4) status = rng.weighted([['placed', 20], ['shipped', 70], ['delivered', 10]] as const);
    else if (age < 10) status = rng.chance(0.35) ? 'shipped' : 'delivered';
    else status = rng.chance(hasApparel ? 0.075 : 0.028) ? 'returned' : 'delivered';

    orders.id.push(orderId);
    orders.customer_id.push(customerIdx + 1);
    orders.status.push(status);
    orders.channel.push(channel);
    orders.ordered_at.push(iso(t));
    orders.total_cents.push(total);

    if (status !== 'delivered' && status !== 'returned') continue;
    for (const p of chosen) {
      if (!rng.chance(status === 'returned' ? 0.22 : 0.075)) continue;
      const createdAt = t + rng.int(4, 45) * DAY_MS + rng.int(0, 86_399) * 1000;
      const key = `${customerIdx}:${p}`;
      if (createdAt >= anchor || reviewed.has(key)) continue;
      reviewed.add(key);
      const draft = drafts[p]!;
      // Ratings skew positive, as on real shops; a product's quality and a return pull them down.
      const noise = (rng.next() + rng.next() + rng.next() - 1.5) * 1.7;
      const score = 4.45 + draft.quality * 1.4 + noise - (status === 'returned' ? 2.2 : 0);
      const rating = Math.min(5, Math.max(1, Math.round(score)));
      reviewDrafts.push({ productId: p + 1, customerId: customerIdx + 1, rating, ...reviewText(rng, rating, draft.category, draft.noun), createdAt });
    }
  }
  reviewDrafts.sort((a, b) => a.createdAt - b.createdAt || a.productId - b.productId || a.customerId - b.customerId);
  const reviews: GeneratedTenantData['reviews'] = { id: [], product_id: [], customer_id: [], rating: [], title: [], body: [], created_at: [] };
  reviewDrafts.forEach((r, i) => {
    reviews.id.push(i + 1);
    reviews.product_id.push(r.productId);
    reviews.customer_id.push(r.customerId);
    reviews.rating.push(r.rating);
    reviews.title.push(r.title);
    reviews.body.push(r.body);
    reviews.created_at.push(iso(r.createdAt));
  });

  return { tenantId, seed, anchorDate: iso(anchor), windowStart: iso(start), categories, products, customers, orders, order_items: items, reviews };
}

