// The demo shops' catalogue and people (data): product types per category with a review noun and a
// typical price, brand and novel words, names by culture, countries' cultures, review texts.
import { CATEGORIES } from '../../workflows/shared/shop-vocabulary.ts';
import type { Rng } from './random.ts';

/** A category of the shop vocabulary. */
export type Category = (typeof CATEGORIES)[number];

// Catalog: product types with a review noun and a typical price in dollars.

export type ProductType = readonly [name: string, noun: string, dollars: number];

export const CATALOG: Record<Category, { code: string; brands: readonly string[]; modifiers: readonly string[]; types: readonly ProductType[] }> = {
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

export const NOVEL_WORDS_A = ['Quiet', 'Hidden', 'Last', 'Silver', 'Winter', 'Lost', 'Bright', 'Distant', 'Salt', 'Paper', 'Iron', 'Long', 'Golden', 'Northern'];
export const NOVEL_WORDS_B = ['Harbor', 'Orchard', 'Garden', 'Lighthouse', 'River', 'Kingdom', 'Map', 'Summer', 'Letters', 'Road', 'Clockmaker', 'Forest', 'Island', 'Tide'];

export function productName(rng: Rng, category: Category, type: ProductType): string {
  const c = CATALOG[category];
  if (category === 'Books') {
    const format = rng.chance(0.65) ? 'Paperback' : 'Hardcover';
    const title = type[0] === 'Novel' ? `The ${rng.pick(NOVEL_WORDS_A)} ${rng.pick(NOVEL_WORDS_B)}` : type[0];
    return `${title} (${format})`;
  }
  const modifier = rng.chance(0.6) ? `${rng.pick(c.modifiers)} ` : '';
  return `${rng.pick(c.brands)} ${modifier}${type[0]}`;
}

// People: names by culture, countries mapped to a culture.

export const NAMES: Record<string, { first: string; last: string }> = {
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

export const COUNTRY_CULTURE: Record<string, string> = {
  US: 'anglo', CA: 'anglo', GB: 'anglo', AU: 'anglo', NZ: 'anglo', DE: 'german', FR: 'french', ES: 'spanish', IT: 'italian',
  MX: 'spanish', CO: 'spanish', CL: 'spanish', BR: 'portuguese', JP: 'japanese', IN: 'indian', SG: 'singaporean',
};

export const COUNTRY_WEIGHTS: Record<string, number> = {
  US: 82, CA: 18, GB: 30, DE: 28, FR: 20, ES: 12, IT: 10, AU: 35, JP: 25, IN: 20, SG: 12, NZ: 8, MX: 40, BR: 35, CO: 15, CL: 10,
};

export const NAME_LISTS = Object.fromEntries(
  Object.entries(NAMES).map(([culture, n]) => [culture, { first: n.first.split(' '), last: n.last.split(' ') }]),
);

export function emailPart(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z]/g, '');
}

export function makeEmail(rng: Rng, first: string, last: string, used: Set<string>): string {
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

// Reviews

export const REVIEW_TEXT = {
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

export const CATEGORY_REMARKS: Record<Category, { good: readonly string[]; bad: readonly string[] }> = {
  Electronics: { good: ['Setup took less than five minutes.', 'The build quality feels premium.'], bad: ['It stopped working properly after a month.', 'The connection keeps dropping.'] },
  'Home & Kitchen': { good: ['Easy to clean and feels sturdy.', 'Looks great on the counter.'], bad: ['The finish started peeling after a few washes.', 'Smaller than it looked in the photos.'] },
  Apparel: { good: ['Fits true to size and the fabric feels great.', 'Held up well after several washes.'], bad: ['Runs small, I had to size up.', 'Shrank noticeably after the first wash.'] },
  Beauty: { good: ['Gentle on my sensitive skin.', 'A little goes a long way.'], bad: ['It caused some irritation.', 'The scent is much stronger than I expected.'] },
  'Sports & Outdoors': { good: ['Held up great on a weekend trip.', 'Lightweight but feels durable.'], bad: ['A seam started fraying on the first outing.', 'Heavier than the listing suggests.'] },
  Toys: { good: ['My kids play with it every day.', 'Sturdy enough to survive a toddler.'], bad: ['Pieces were missing from the box.', 'The paint chipped within days.'] },
  Books: { good: ["Couldn't put it down.", 'Beautifully printed and well edited.'], bad: ['The pacing dragged in the middle.', 'Lots of typos in this edition.'] },
  Grocery: { good: ['Tastes fresh and the packaging is great.', 'Our new pantry staple.'], bad: ['Arrived close to its best-by date.', 'Too salty for our taste.'] },
};

export function reviewText(rng: Rng, rating: number, category: Category, noun: string): { title: string; body: string } {
  const tone = rating >= 4 ? REVIEW_TEXT.positive : rating === 3 ? REVIEW_TEXT.mixed : REVIEW_TEXT.negative;
  const remarks = CATEGORY_REMARKS[category];
  const parts = [rng.pick(tone.openers).replace('{noun}', noun)];
  if (rng.chance(0.6)) parts.push(rng.pick(rating >= 4 ? remarks.good : rating === 3 ? rng.pick([remarks.good, remarks.bad]) : remarks.bad));
  parts.push(rng.pick(tone.closers));
  return { title: rng.pick(tone.titles), body: parts.filter(Boolean).join(' ') };
}
