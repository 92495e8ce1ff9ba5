// The values the demo shop schema stores in its low-cardinality columns (DESIGN.md's contract). One home:
// the seeder writes them, capture resolves words to them, the output schema validates against them.

/** Customer regions. */
export const REGIONS = ['North America', 'Europe', 'Asia Pacific', 'Latin America'] as const;
export type Region = (typeof REGIONS)[number];
/** Customer segments. */
export const SEGMENTS = ['consumer', 'business'] as const;
/** Order statuses; revenue excludes `cancelled` and `returned`. */
export const ORDER_STATUSES = ['placed', 'shipped', 'delivered', 'cancelled', 'returned'] as const;
/** Sales channels. */
export const CHANNELS = ['web', 'mobile', 'store'] as const;
/** The eight product categories, in id order. */
export const CATEGORIES = ['Electronics', 'Home & Kitchen', 'Apparel', 'Beauty', 'Sports & Outdoors', 'Toys', 'Books', 'Grocery'] as const;
/** ISO 3166-1 alpha-2 country codes per region, as stored in `customers.country`. */
export const COUNTRIES_BY_REGION: Record<Region, readonly string[]> = {
  'North America': ['US', 'CA'],
  Europe: ['GB', 'DE', 'FR', 'ES', 'IT'],
  'Asia Pacific': ['AU', 'JP', 'IN', 'SG', 'NZ'],
  'Latin America': ['MX', 'BR', 'CO', 'CL'],
};
