// Deterministic demo shop data for each tenant's analytics schema: categories, products, customers,
// two years of orders with their items, and reviews. Everything is generated in memory from a seeded
// PRNG and an anchor day, then bulk-inserted with a handful of `unnest` statements, so seeding takes
// seconds even on PGlite (single-threaded WASM behind the wire protocol, where round-trips dominate).
import type pg from 'pg';
import { mulberry32 } from '../prng.ts';

/** The demo tenants seeded at startup; each gets its own Postgres schema of the same name. */
export const DEMO_TENANTS = ['acme', 'globex'] as const;

/**
 * Settings the demo tenants start with (validated by the tenant settings schema when applied): their shop's
 * time zone, and each other's name as a denied topic, to show per-tenant guardrails.
 */
export const DEMO_TENANT_SETTINGS: Record<string, object> = {
  acme: { timeZone: 'America/New_York', guardrails: { deniedTopics: [{ name: 'competitors', phrases: ['globex', 'globex market'] }] } },
  globex: { timeZone: 'Europe/Berlin', guardrails: { deniedTopics: [{ name: 'competitors', phrases: ['acme', 'acme outfitters'] }] } },
};

export { CATEGORIES, CHANNELS, COUNTRIES_BY_REGION, ORDER_STATUSES, REGIONS, SEGMENTS } from '../../workflows/shared/shop-vocabulary.ts';
import { TENANT_ID_PATTERN } from '../../workflows/shared/contract.ts';
import { CATEGORIES, COUNTRIES_BY_REGION, REGIONS, type Region } from '../../workflows/shared/shop-vocabulary.ts';


type Category = (typeof CATEGORIES)[number];

/** Progress of one table's inserts. */
export interface SeedProgress {
  tenantId: string;
  table: string;
  rows: number;
  done: boolean;
}

/** Options of `seedTenant` / `ensureTenantData`. */
export interface SeedOptions {
  anchorDate: Date;
  baseSeed?: number;
  /** Generate the data of this demo tenant (e.g. `acme`) instead of the tenant's own: identical shops for a benchmark. */
  template?: string;
  onProgress?: (p: SeedProgress) => void;
}

/** Row counts and duration of one tenant's seeding. */
export interface SeedSummary {
  tenantId: string;
  categories: number;
  products: number;
  customers: number;
  orders: number;
  orderItems: number;
  reviews: number;
  ms: number;
}

/** All rows of one tenant, column-oriented (one array per column; timestamps as ISO strings). */
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
const INSERT_CHUNK = 10_000;
// Distinct from the migrations' lock key (7243001) in infra/app-store.ts.
const SEED_LOCK_KEY = 7243002;

// ---------------------------------------------------------------------------------------------
// Randomness

/** FNV-1a, 32 bits. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  range(min: number, max: number): number {
    return min + this.next() * (max - min);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  /** Index drawn from a cumulative weight table, restricted to its first `n` entries. */
  index(cum: Float64Array | number[], n = cum.length): number {
    const target = this.next() * cum[n - 1]!;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    return entries[this.index(cumulative(entries.map((e) => e[1])))]![0];
  }
}

function cumulative(weights: readonly number[]): Float64Array {
  const cum = new Float64Array(weights.length);
  let sum = 0;
  weights.forEach((w, i) => (cum[i] = sum += w));
  return cum;
}

/** Number of entries of a sorted array strictly below `value`. */
function countBelow(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------------
// Catalog: product types with a review noun and a typical price in dollars.

type ProductType = readonly [name: string, noun: string, dollars: number];

const CATALOG: Record<Category, { code: string; brands: readonly string[]; modifiers: readonly string[]; types: readonly ProductType[] }> = {
  Electronics: {
    code: 'ELE',
    brands: ['Voltix', 'Nuvio', 'Kestrel Audio', 'Arcwave', 'Lumora'],
    modifiers: ['Pro', 'Mini', 'Air', 'Max', 'Lite', 'Plus', 'Go', 'S2'],
    types: [
      ['Wireless Earbuds', 'earbuds', 79], ['Over-Ear Headphones', 'headphones', 149], ['Bluetooth Speaker', 'speaker', 59],
      ['Smartwatch', 'watch', 199], ['Fitness Tracker', 'tracker', 89], ['27-inch 4K Monitor', 'monitor', 329],
      ['Mechanical Keyboard', 'keyboard', 99], ['Wireless Mouse', 'mouse', 35], ['65W USB-C Charger', 'charger', 39],
      ['20000mAh Power Bank', 'power bank', 45], ['1080p Webcam', 'webcam', 69], ['1TB Portable SSD', 'SSD', 119],
      ['E-Reader', 'e-reader', 139], ['Action Camera', 'camera', 249], ['Streaming Stick', 'streaming stick', 49],
      ['Soundbar', 'soundbar', 229],
    ],
  },
  'Home & Kitchen': {
    code: 'HOM',
    brands: ['Hearthwell', 'Copperleaf', 'Oakmere', 'Nestory', 'Brightcasa'],
    modifiers: ['Classic', 'Essential', 'Signature', 'Everyday', 'Premium', 'Compact', 'Deluxe', 'Nordic'],
    types: [
      ["8-inch Chef's Knife", 'knife', 59], ['12-inch Cast Iron Skillet', 'skillet', 45], ['Nonstick Pan Set', 'pan set', 79],
      ['Stand Mixer', 'mixer', 299], ['High-Speed Blender', 'blender', 89], ['5.8 qt Air Fryer', 'air fryer', 119],
      ['Pour-Over Coffee Set', 'coffee set', 39], ['Espresso Machine', 'espresso machine', 349], ['Electric Kettle', 'kettle', 49],
      ['Cotton Bath Towel Set', 'towels', 42], ['Linen Duvet Cover', 'duvet cover', 119], ['Memory Foam Pillow', 'pillow', 49],
      ['Glass Storage Container Set', 'containers', 29], ['Walnut Cutting Board', 'cutting board', 34], ['6 qt Dutch Oven', 'dutch oven', 129],
      ['Robot Vacuum', 'vacuum', 279],
    ],
  },
  Apparel: {
    code: 'APP',
    brands: ['Northwind', 'Tidewater', 'Alder & Pine', 'Fieldhouse', 'Coastline'],
    modifiers: ["Men's", "Women's", 'Unisex', "Kids'", 'Heritage', 'Lightweight', 'Relaxed', 'Tall'],
    types: [
      ['Merino Crew Sweater', 'sweater', 89], ['Rain Shell Jacket', 'jacket', 149], ['Down Puffer Jacket', 'jacket', 199],
      ['Slim Fit Chinos', 'chinos', 59], ['Stretch Denim Jeans', 'jeans', 69], ['Organic Cotton T-Shirt', 't-shirt', 24],
      ['Flannel Shirt', 'shirt', 49], ['Fleece Hoodie', 'hoodie', 64], ['Wool Beanie', 'beanie', 22], ['Running Shorts', 'shorts', 34],
      ['Leather Belt', 'belt', 39], ['Everyday Sneakers', 'sneakers', 89], ['Hiking Socks 3-Pack', 'socks', 19],
      ['Linen Button-Down', 'shirt', 65], ['Quilted Vest', 'vest', 79],
    ],
  },
  Beauty: {
    code: 'BEA',
    brands: ['Lumiere Botanics', 'Petal & Stone', 'Dewbloom', 'Saltwater Skin', 'Aurelle'],
    modifiers: ['Daily', 'Sensitive', 'Travel Size', 'Fragrance-Free', 'Night', 'Radiance', 'Pure', 'Rose'],
    types: [
      ['Vitamin C Serum', 'serum', 32], ['Hydrating Face Cream', 'face cream', 28], ['Gentle Foaming Cleanser', 'cleanser', 16],
      ['Mineral Sunscreen SPF 50', 'sunscreen', 22], ['Hyaluronic Acid Serum', 'serum', 26], ['Lip Balm Set', 'lip balm', 12],
      ['Volumizing Shampoo', 'shampoo', 18], ['Repair Conditioner', 'conditioner', 18], ['Eau de Parfum 50 ml', 'fragrance', 78],
      ['Matte Lipstick', 'lipstick', 21], ['Lengthening Mascara', 'mascara', 19], ['Ionic Hair Dryer', 'hair dryer', 89],
      ['Bamboo Makeup Brush Set', 'brush set', 29], ['Clay Face Mask', 'face mask', 24],
    ],
  },
  'Sports & Outdoors': {
    code: 'SPO',
    brands: ['Summitline', 'Ridgeback', 'Trailborne', 'Cascadia Gear', 'Bluefin'],
    modifiers: ['Ultralight', 'Trail', 'Expedition', 'Basecamp', 'Pro', 'Sport', 'All-Season', 'Compact'],
    types: [
      ['2-Person Backpacking Tent', 'tent', 229], ['20-Degree Down Sleeping Bag', 'sleeping bag', 179], ['Trekking Poles', 'trekking poles', 69],
      ['32 oz Insulated Water Bottle', 'water bottle', 32], ['28L Daypack', 'daypack', 89], ['Yoga Mat', 'yoga mat', 42],
      ['Adjustable Dumbbells', 'dumbbells', 299], ['Resistance Band Set', 'bands', 24], ['Trail Running Shoes', 'shoes', 129],
      ['Camp Stove', 'stove', 59], ['Rechargeable Headlamp', 'headlamp', 34], ['Cycling Helmet', 'helmet', 79],
      ['Kayak Paddle', 'paddle', 119], ['Foam Roller', 'foam roller', 29], ['Camping Hammock', 'hammock', 54],
    ],
  },
  Toys: {
    code: 'TOY',
    brands: ['Pipsqueak', 'Tumbletown', 'Brightbeam Toys', 'Marble & Moss', 'Kiteworks'],
    modifiers: ['Deluxe', 'Junior', 'Classic', 'Rainbow', 'Explorer', 'Mini', 'Starter', 'Jumbo'],
    types: [
      ['Wooden Building Blocks', 'blocks', 34], ['Magnetic Tiles 60-Piece', 'magnetic tiles', 59], ['Remote Control Car', 'car', 49],
      ['Plush Bear', 'bear', 19], ['1000-Piece Jigsaw Puzzle', 'puzzle', 22], ['Family Board Game', 'board game', 34],
      ['Science Kit', 'science kit', 39], ['Art Easel', 'easel', 69], ['Wooden Dollhouse', 'dollhouse', 129], ['Toy Train Set', 'train set', 79],
      ["Kids' Scooter", 'scooter', 59], ['Card Game', 'card game', 14], ['Building Brick Set', 'brick set', 49], ['Stacking Rings', 'stacking rings', 12],
    ],
  },
  // Book names are built from titles (see productName); these are formats and non-fiction titles.
  Books: {
    code: 'BOO',
    brands: [],
    modifiers: ['Paperback', 'Hardcover'],
    types: [
      ['Novel', 'book', 18], ['Novel', 'book', 18], ['Novel', 'book', 18], ['Novel', 'book', 18],
      ['Weeknight Vegetarian Cookbook', 'cookbook', 32], ['Field Guide to Coastal Birds', 'guide', 24], ["A Beginner's Guide to Sourdough", 'book', 26],
      ['Trail Running for Everyone', 'book', 22], ['The Small Business Playbook', 'book', 28], ['Atlas of Remote Islands', 'atlas', 35],
      ['Home Repair Basics', 'book', 24], ['Gardening in Small Spaces', 'book', 22], ['Watercolor Made Simple', 'book', 20],
      ["The Budget Traveler's Handbook", 'book', 19], ['Bedtime Stories for Little Explorers', 'book', 16], ['Kids Encyclopedia of Space', 'book', 29],
    ],
  },
  Grocery: {
    code: 'GRO',
    brands: ['Golden Acre', 'Harvest Lane', 'Little Kettle', 'Mesa Verde Pantry', 'Roastwell'],
    modifiers: ['Organic', 'Classic', 'Smoky', 'Original', 'Family Size', 'Sea Salt', 'Vanilla', 'Wildflower'],
    types: [
      ['Single-Origin Coffee Beans 12 oz', 'coffee', 16], ['Loose Leaf Green Tea', 'tea', 12], ['Extra Virgin Olive Oil 750 ml', 'olive oil', 18],
      ['Dark Chocolate Bar 6-Pack', 'chocolate', 21], ['Trail Mix 2 lb', 'trail mix', 14], ['Pure Maple Syrup', 'maple syrup', 15],
      ['Sparkling Water 12-Pack', 'sparkling water', 9], ['Whole Grain Pasta 4-Pack', 'pasta', 11], ['Raw Honey 16 oz', 'honey', 13],
      ['Protein Bars 12-Pack', 'protein bars', 24], ['Granola', 'granola', 8], ['Hot Sauce Trio', 'hot sauce', 17],
      ['Mixed Nuts 1 lb', 'nuts', 16], ['Spice Sampler', 'spices', 29],
    ],
  },
};

const NOVEL_WORDS_A = ['Quiet', 'Hidden', 'Last', 'Silver', 'Winter', 'Lost', 'Bright', 'Distant', 'Salt', 'Paper', 'Iron', 'Long', 'Golden', 'Northern'];
const NOVEL_WORDS_B = ['Harbor', 'Orchard', 'Garden', 'Lighthouse', 'River', 'Kingdom', 'Map', 'Summer', 'Letters', 'Road', 'Clockmaker', 'Forest', 'Island', 'Tide'];

function productName(rng: Rng, category: Category, type: ProductType): string {
  const c = CATALOG[category];
  if (category === 'Books') {
    const format = rng.chance(0.65) ? 'Paperback' : 'Hardcover';
    const title = type[0] === 'Novel' ? `The ${rng.pick(NOVEL_WORDS_A)} ${rng.pick(NOVEL_WORDS_B)}` : type[0];
    return `${title} (${format})`;
  }
  const modifier = rng.chance(0.6) ? `${rng.pick(c.modifiers)} ` : '';
  return `${rng.pick(c.brands)} ${modifier}${type[0]}`;
}

// ---------------------------------------------------------------------------------------------
// People: names by culture, countries mapped to a culture.

const NAMES: Record<string, { first: string; last: string }> = {
  anglo: {
    first: 'James Mary Michael Jennifer David Sarah Emily Daniel Olivia Ethan Ava Noah Madison Tyler Hannah Brandon Chloe Jacob Grace Ryan Lauren Kevin Megan Jordan Liam Isla Jack Charlotte',
    last: 'Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Thomas Taylor Moore Martin Thompson White Harris Clark Lewis Walker Hall Young King Wright Scott Green Baker Adams Nelson Campbell Mitchell',
  },
  german: {
    first: 'Lukas Leon Finn Jonas Paul Felix Maximilian Emma Mia Hannah Lena Sophie Marie Anna Laura Lea',
    last: 'Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter Klein Wolf Neumann',
  },
  french: {
    first: 'Hugo Louis Gabriel Arthur Jules Lucas Léa Chloé Manon Camille Inès Louise Juliette Zoé',
    last: 'Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre Michel Garnier',
  },
  spanish: {
    first: 'Mateo Santiago Sebastián Diego Alejandro Daniel Pablo Lucía Sofía Valentina Camila Martina Isabella Elena Carmen',
    last: 'García Rodríguez Martínez López González Hernández Pérez Sánchez Ramírez Torres Flores Rivera Gómez Díaz Romero',
  },
  italian: {
    first: 'Leonardo Francesco Alessandro Lorenzo Matteo Marco Giulia Sofia Aurora Alice Chiara Francesca',
    last: 'Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti',
  },
  portuguese: {
    first: 'Miguel Arthur Heitor Bernardo Davi Gabriel João Pedro Alice Helena Laura Manuela Beatriz Júlia Mariana',
    last: 'Silva Santos Oliveira Souza Rodrigues Ferreira Alves Pereira Lima Gomes Costa Ribeiro Martins Carvalho',
  },
  japanese: {
    first: 'Haruto Yuto Sota Riku Hiroshi Kenji Takeshi Yui Sakura Hina Aoi Yuki Aiko Mei',
    last: 'Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato Yoshida Yamada',
  },
  indian: {
    first: 'Aarav Vihaan Arjun Rohan Rahul Vikram Ananya Priya Diya Kavya Aditi Meera Neha Riya',
    last: 'Sharma Patel Singh Gupta Iyer Reddy Nair Mehta Joshi Kumar Rao Das Bose Kapoor',
  },
  singaporean: {
    first: 'Wei Jun Ming Hao Jia Hui Mei Ling Siti Nur Aisyah Ravi Priya Daniel Rachel',
    last: 'Tan Lim Lee Ng Wong Goh Chua Chan Koh Teo Ong Ismail Rahman Pillai',
  },
};

const COUNTRY_CULTURE: Record<string, string> = {
  US: 'anglo', CA: 'anglo', GB: 'anglo', AU: 'anglo', NZ: 'anglo', DE: 'german', FR: 'french', ES: 'spanish', IT: 'italian',
  MX: 'spanish', CO: 'spanish', CL: 'spanish', BR: 'portuguese', JP: 'japanese', IN: 'indian', SG: 'singaporean',
};

const COUNTRY_WEIGHTS: Record<string, number> = {
  US: 82, CA: 18, GB: 30, DE: 28, FR: 20, ES: 12, IT: 10, AU: 35, JP: 25, IN: 20, SG: 12, NZ: 8, MX: 40, BR: 35, CO: 15, CL: 10,
};

const NAME_LISTS = Object.fromEntries(
  Object.entries(NAMES).map(([culture, n]) => [culture, { first: n.first.split(' '), last: n.last.split(' ') }]),
);

function emailPart(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z]/g, '');
}

function makeEmail(rng: Rng, first: string, last: string, used: Set<string>): string {
  const f = emailPart(first);
  const l = emailPart(last);
  const domain = rng.weighted([['example.com', 60], ['example.net', 25], ['example.org', 15]] as const);
  const local = rng.weighted([
    [() => `${f}.${l}${rng.int(1, 99)}`, 45],
    [() => `${f}.${l}`, 10],
    [() => `${f}${l}${rng.int(1, 999)}`, 15],
    [() => `${f[0]}.${l}${rng.int(1, 99)}`, 12],
    [() => `${f}_${l}${rng.int(1960, 2006)}`, 10],
    [() => `${l}.${f}${rng.int(1, 9)}`, 8],
  ] as const)();
  let email = `${local}@${domain}`;
  // Collisions are rare; a further number keeps addresses unique and still realistic.
  while (used.has(email)) email = `${local}${rng.int(1, 9)}@${domain}`;
  used.add(email);
  return email;
}

// ---------------------------------------------------------------------------------------------
// Reviews

const REVIEW_TEXT = {
  positive: {
    titles: ['Exactly what I needed', 'Love it', 'Great value', 'Would buy again', 'Exceeded my expectations', 'Five stars', 'Solid quality', 'Perfect gift', 'Better than expected', 'Highly recommend'],
    openers: [
      'Really happy with the {noun}.',
      'The {noun} arrived quickly, exactly as described.',
      "I've been using the {noun} for a few weeks now with no complaints.",
      'Got the {noun} as a gift for my sister and she was thrilled.',
      'Great quality for the price.',
      'My second purchase from this brand and it did not disappoint.',
    ],
    closers: ['Would definitely recommend.', 'Will buy again.', 'No complaints at all.', 'Five stars from me.', ''],
  },
  mixed: {
    titles: ['Decent but not perfect', 'Okay for the price', 'Does the job', 'Mixed feelings', 'Good, not great'],
    openers: [
      'Fine overall, but a few things about the {noun} could be better.',
      'It does what it says, nothing more.',
      'Quality is okay for the price.',
      'Took a while to arrive, but the {noun} itself is decent.',
    ],
    closers: ['Might look at other options next time.', 'Three stars feels fair.', "Fine if it's on sale.", ''],
  },
  negative: {
    titles: ['Disappointed', 'Not as described', 'Stopped working', 'Would not recommend', 'Poor quality', 'Sent it back'],
    openers: [
      'Unfortunately the {noun} did not live up to the description.',
      'The {noun} wore out after a couple of weeks.',
      'Quality is much lower than I expected.',
      'The {noun} arrived with a damaged box and a scuffed finish.',
    ],
    closers: ['Would not buy again.', 'Expected better for the price.', 'Returned it for a refund.', ''],
  },
} as const;

const CATEGORY_REMARKS: Record<Category, { good: readonly string[]; bad: readonly string[] }> = {
  Electronics: { good: ['Setup took less than five minutes.', 'The build quality feels premium.'], bad: ['It stopped working properly after a month.', 'The connection keeps dropping.'] },
  'Home & Kitchen': { good: ['Easy to clean and feels sturdy.', 'Looks great on the counter.'], bad: ['The finish started peeling after a few washes.', 'Smaller than it looked in the photos.'] },
  Apparel: { good: ['Fits true to size and the fabric feels great.', 'Held up well after several washes.'], bad: ['Runs small, I had to size up.', 'Shrank noticeably after the first wash.'] },
  Beauty: { good: ['Gentle on my sensitive skin.', 'A little goes a long way.'], bad: ['It caused some irritation.', 'The scent is much stronger than I expected.'] },
  'Sports & Outdoors': { good: ['Held up great on a weekend trip.', 'Lightweight but feels durable.'], bad: ['A seam started fraying on the first outing.', 'Heavier than the listing suggests.'] },
  Toys: { good: ['My kids play with it every day.', 'Sturdy enough to survive a toddler.'], bad: ['Pieces were missing from the box.', 'The paint chipped within days.'] },
  Books: { good: ["Couldn't put it down.", 'Beautifully printed and well edited.'], bad: ['The pacing dragged in the middle.', 'Lots of typos in this edition.'] },
  Grocery: { good: ['Tastes fresh and the packaging is great.', 'Our new pantry staple.'], bad: ['Arrived close to its best-by date.', 'Too salty for our taste.'] },
};

function reviewText(rng: Rng, rating: number, category: Category, noun: string): { title: string; body: string } {
  const tone = rating >= 4 ? REVIEW_TEXT.positive : rating === 3 ? REVIEW_TEXT.mixed : REVIEW_TEXT.negative;
  const remarks = CATEGORY_REMARKS[category];
  const parts = [rng.pick(tone.openers).replace('{noun}', noun)];
  if (rng.chance(0.6)) parts.push(rng.pick(rating >= 4 ? remarks.good : rating === 3 ? rng.pick([remarks.good, remarks.bad]) : remarks.bad));
  parts.push(rng.pick(tone.closers));
  return { title: rng.pick(tone.titles), body: parts.filter(Boolean).join(' ') };
}

// ---------------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------------
// Generation

/** Pure generator (no I/O): returns all rows for one tenant; same tenant, seed and anchor day give identical data. */
export function generateTenantData(tenantId: string, opts: { anchorDate: Date; baseSeed?: number }): GeneratedTenantData {
  assertTenantId(tenantId);
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

// ---------------------------------------------------------------------------------------------
// SQL

function assertTenantId(tenantId: string): void {
  if (!TENANT_ID_PATTERN.test(tenantId)) throw new Error(`invalid tenant id ${JSON.stringify(tenantId)}: expected ${TENANT_ID_PATTERN}`);
}

/** The tenant's schema as a quoted identifier; the id pattern leaves nothing to escape. */
function schemaOf(tenantId: string): string {
  assertTenantId(tenantId);
  return `"${tenantId}"`;
}

function tablesSql(s: string): string {
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.categories (
  id    int PRIMARY KEY,
  name  text NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS ${s}.products (
  id           int PRIMARY KEY,
  sku          text NOT NULL UNIQUE,
  name         text NOT NULL,
  category_id  int NOT NULL REFERENCES ${s}.categories(id),
  price_cents  int NOT NULL CHECK (price_cents > 0),
  created_at   timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS ${s}.customers (
  id         int PRIMARY KEY,
  name       text NOT NULL,
  email      text NOT NULL,
  country    text NOT NULL,
  region     text NOT NULL CHECK (region IN ('North America', 'Europe', 'Asia Pacific', 'Latin America')),
  segment    text NOT NULL CHECK (segment IN ('consumer', 'business')),
  signup_at  timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS ${s}.orders (
  id           int PRIMARY KEY,
  customer_id  int NOT NULL REFERENCES ${s}.customers(id),
  status       text NOT NULL CHECK (status IN ('placed', 'shipped', 'delivered', 'cancelled', 'returned')),
  channel      text NOT NULL CHECK (channel IN ('web', 'mobile', 'store')),
  ordered_at   timestamptz NOT NULL,
  total_cents  int NOT NULL
);
CREATE TABLE IF NOT EXISTS ${s}.order_items (
  order_id          int NOT NULL REFERENCES ${s}.orders(id),
  product_id        int NOT NULL REFERENCES ${s}.products(id),
  quantity          int NOT NULL CHECK (quantity > 0),
  unit_price_cents  int NOT NULL,
  PRIMARY KEY (order_id, product_id)
);
CREATE TABLE IF NOT EXISTS ${s}.reviews (
  id           int PRIMARY KEY,
  product_id   int NOT NULL REFERENCES ${s}.products(id),
  customer_id  int NOT NULL REFERENCES ${s}.customers(id),
  rating       int NOT NULL CHECK (rating BETWEEN 1 AND 5),
  title        text NOT NULL,
  body         text NOT NULL,
  created_at   timestamptz NOT NULL
);`;
}

function indexesSql(s: string): string {
  return `
CREATE INDEX IF NOT EXISTS orders_ordered_at_idx ON ${s}.orders (ordered_at);
CREATE INDEX IF NOT EXISTS orders_customer_id_idx ON ${s}.orders (customer_id);
CREATE INDEX IF NOT EXISTS order_items_product_id_idx ON ${s}.order_items (product_id);
CREATE INDEX IF NOT EXISTS products_category_id_idx ON ${s}.products (category_id);
CREATE INDEX IF NOT EXISTS reviews_product_id_idx ON ${s}.reviews (product_id);`;
}

/** DDL for one tenant schema (CREATE SCHEMA IF NOT EXISTS + tables + indexes); idempotent. */
export function tenantSchemaSql(tenantId: string): string {
  const s = schemaOf(tenantId);
  return `${tablesSql(s)}\n${indexesSql(s)}\n`;
}

type Columns = Record<string, (string | number)[]>;

// Insert order respects the foreign keys; the types drive the unnest casts.
const TABLE_TYPES: readonly (readonly [keyof Omit<GeneratedTenantData, 'tenantId' | 'seed' | 'anchorDate' | 'windowStart'>, Record<string, string>])[] = [
  ['categories', { id: 'int', name: 'text' }],
  ['products', { id: 'int', sku: 'text', name: 'text', category_id: 'int', price_cents: 'int', created_at: 'timestamptz' }],
  ['customers', { id: 'int', name: 'text', email: 'text', country: 'text', region: 'text', segment: 'text', signup_at: 'timestamptz' }],
  ['orders', { id: 'int', customer_id: 'int', status: 'text', channel: 'text', ordered_at: 'timestamptz', total_cents: 'int' }],
  ['order_items', { order_id: 'int', product_id: 'int', quantity: 'int', unit_price_cents: 'int' }],
  ['reviews', { id: 'int', product_id: 'int', customer_id: 'int', rating: 'int', title: 'text', body: 'text', created_at: 'timestamptz' }],
];

async function insertTable(
  client: pg.PoolClient,
  s: string,
  tenantId: string,
  table: string,
  types: Record<string, string>,
  data: Columns,
  onProgress?: (p: SeedProgress) => void,
): Promise<number> {
  const names = Object.keys(types);
  const total = data[names[0]!]!.length;
  const casts = names.map((n, i) => `$${i + 1}::${types[n]}[]`).join(', ');
  const sql = `INSERT INTO ${s}.${table} (${names.join(', ')}) SELECT * FROM unnest(${casts})`;
  let from = 0;
  do {
    const to = Math.min(total, from + INSERT_CHUNK);
    if (to > from) await client.query(sql, names.map((n) => data[n]!.slice(from, to)));
    onProgress?.({ tenantId, table, rows: to, done: to === total });
    from = to;
  } while (from < total);
  return total;
}

/** Seeds inside the caller's open transaction; replaces whatever rows the six tables held. */
async function seedWithin(client: pg.PoolClient, tenantId: string, opts: SeedOptions, started: number): Promise<SeedSummary> {
  const s = schemaOf(tenantId);
  const data = generateTenantData(opts.template ?? tenantId, opts);
  await client.query(tablesSql(s));
  await client.query(`TRUNCATE ${TABLE_TYPES.map(([t]) => `${s}.${t}`).join(', ')}`);
  for (const [table, types] of TABLE_TYPES) {
    await insertTable(client, s, tenantId, table, types, data[table] as Columns, opts.onProgress);
  }
  // Indexes after the rows (one build instead of per-row upkeep); ANALYZE so the first analytics
  // queries get sane plans without waiting for autovacuum, which PGlite does not run.
  await client.query(`${indexesSql(s)}\nANALYZE ${TABLE_TYPES.map(([t]) => `${s}.${t}`).join(', ')};`);
  return {
    tenantId,
    categories: data.categories.id.length,
    products: data.products.id.length,
    customers: data.customers.id.length,
    orders: data.orders.id.length,
    orderItems: data.order_items.order_id.length,
    reviews: data.reviews.id.length,
    ms: Date.now() - started,
  };
}

async function inTransaction<T>(pool: Pick<pg.Pool, 'connect'>, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  } finally {
    client.release();
  }
}

/** Creates the tenant's schema and (re)places its demo data in one transaction: all or nothing. */
export async function seedTenant(pool: Pick<pg.Pool, 'connect'>, tenantId: string, opts: SeedOptions): Promise<SeedSummary> {
  const started = Date.now();
  schemaOf(tenantId); // a bad id fails before a connection is taken
  return inTransaction(pool, (client) => seedWithin(client, tenantId, opts, started));
}

/** Seeds each tenant whose orders table is missing or empty; serialized across processes by an advisory lock. */
export async function ensureTenantData(pool: pg.Pool, tenants: readonly string[], opts: SeedOptions): Promise<SeedSummary[]> {
  const seeded: SeedSummary[] = [];
  for (const tenantId of tenants) {
    const s = schemaOf(tenantId);
    const started = Date.now();
    const summary = await inTransaction(pool, async (client) => {
      // Held until COMMIT: a second starter waits here, then finds the rows and skips.
      await client.query('SELECT pg_advisory_xact_lock($1)', [SEED_LOCK_KEY]);
      const { rows } = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${s}.orders`]);
      if (rows[0]?.t) {
        const has = await client.query<{ has: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${s}.orders) AS has`);
        if (has.rows[0]?.has) return null;
      }
      return seedWithin(client, tenantId, opts, started);
    });
    if (summary) seeded.push(summary);
  }
  return seeded;
}
