// Policy documents written for this project, one set per demo tenant. The texts are generated from
// per-tenant facts so the two tenants cannot drift apart on anything but those facts.
import type pg from 'pg';

/** One knowledge-base document. */
export interface KbDocument {
  slug: string;
  title: string;
  body: string;
}

interface TenantFacts {
  brand: string;
  returnDays: number;
  freeShippingOver: number;
  standardShipping: string;
  expressShipping: string;
  warrantyYears: number;
  payments: string;
  loyalty: { name: string; tiers: string; pointsPerDollar: number; redeem: string };
  privacyEmail: string;
  supportHours: string;
}

const FACTS: Record<string, TenantFacts> = {
  acme: {
    brand: 'Acme Outfitters',
    returnDays: 30,
    freeShippingOver: 50,
    standardShipping: '$5.95, delivered in 3 to 5 business days',
    expressShipping: '$14.95, delivered in 1 to 2 business days',
    warrantyYears: 1,
    payments: 'Visa, Mastercard, American Express, PayPal and Apple Pay',
    loyalty: { name: 'Acme Trail Club', tiers: 'Explorer, Ranger and Summit', pointsPerDollar: 1, redeem: '100 points are worth $5 off' },
    privacyEmail: 'privacy@acme.example',
    supportHours: 'Monday to Friday, 8 am to 8 pm Eastern',
  },
  globex: {
    brand: 'Globex Market',
    returnDays: 60,
    freeShippingOver: 75,
    standardShipping: '$7.50, delivered in 4 to 6 business days',
    expressShipping: '$19.00, delivered the next business day when ordered before 2 pm',
    warrantyYears: 2,
    payments: 'Visa, Mastercard, Google Pay, bank transfer (SEPA) and Klarna pay-later',
    loyalty: { name: 'Globex Circle', tiers: 'Silver, Gold and Platinum', pointsPerDollar: 2, redeem: '500 points are worth $10 off' },
    privacyEmail: 'dpo@globex.example',
    supportHours: 'every day, 7 am to 11 pm Central European Time',
  },
};

/** The six policy documents of a tenant: shipping, returns, warranty, payments, loyalty, privacy. */
export function kbDocumentsFor(tenantId: string): KbDocument[] {
  const f = FACTS[tenantId];
  if (!f) return [];
  return [
    {
      slug: 'shipping',
      title: `${f.brand} shipping policy`,
      body: [
        `Orders over $${f.freeShippingOver} ship free with standard shipping. Below $${f.freeShippingOver}, standard shipping costs ${f.standardShipping}.`,
        `Express shipping costs ${f.expressShipping}. Express is not available for bulky items such as tents, furniture or large appliances.`,
        'Orders placed before 1 pm on a business day leave our warehouse the same day; later orders leave the next business day. You receive a tracking link by email as soon as the parcel is handed to the carrier.',
        'We ship to North America, Europe, Asia Pacific and Latin America. International orders may be subject to import duties and taxes, which the carrier collects on delivery; they are not included in the order total.',
        'If a parcel shows as delivered but has not arrived, wait one business day (carriers sometimes scan early), check with neighbours, then contact support. We open a carrier investigation and send a replacement or a refund if the parcel is not found within 7 days.',
        `A single order can arrive in several parcels when items ship from different warehouses. You never pay shipping more than once for the same order. Support is available ${f.supportHours}.`,
      ].join('\n\n'),
    },
    {
      slug: 'returns',
      title: `${f.brand} returns and refunds`,
      body: [
        `You can return most items within ${f.returnDays} days of delivery for a full refund. Items must be unused, in their original packaging, with tags attached.`,
        'To start a return, open your order in your account and choose "Return items", or contact support with your order number. We email a prepaid return label; return shipping is free for defective or wrong items and deducted from the refund otherwise.',
        `Refunds go back to the original payment method within 5 business days of the return arriving at our warehouse. After ${f.returnDays} days we can no longer accept a return, but warranty claims remain possible for defects.`,
        'Some items cannot be returned: opened beauty products, grocery items, gift cards, and personalised products. Sale items can be returned like any other item unless marked "final sale".',
        'Exchanges for a different size or colour are handled as a return plus a new order, so the new item ships right away without waiting for the return.',
      ].join('\n\n'),
    },
    {
      slug: 'warranty',
      title: `${f.brand} warranty`,
      body: [
        `Every product sold by ${f.brand} carries a ${f.warrantyYears}-year warranty against manufacturing defects from the date of delivery. Electronics may also carry a longer manufacturer warranty, which we help you claim.`,
        'The warranty covers defects in materials and workmanship under normal use. It does not cover wear and tear, accidental damage, misuse, or modifications and repairs by third parties.',
        'To make a claim, contact support with your order number, a description of the fault and a photo or short video. We repair, replace or refund the item; if the model is no longer sold we offer an equivalent product or store credit.',
        'Repaired or replaced items keep the remaining period of the original warranty, or 90 days, whichever is longer.',
      ].join('\n\n'),
    },
    {
      slug: 'payments',
      title: `${f.brand} payment options`,
      body: [
        `We accept ${f.payments}. All prices are shown in US dollars and include applicable sales tax where we are required to collect it.`,
        'Your card is authorised when you place the order and charged when the order ships. If an order ships in several parcels, you may see several charges that add up to the order total.',
        'Card details are processed by our payment provider and never stored on our servers. We never ask for your full card number by email, chat or phone.',
        'If a payment fails, check the billing address and card expiry date, then try again or choose another method. Business customers can ask support for invoicing with 30-day payment terms on orders over $1,000.',
        'Gift cards never expire and can be combined with one other payment method.',
      ].join('\n\n'),
    },
    {
      slug: 'loyalty',
      title: `${f.loyalty.name} loyalty programme`,
      body: [
        `${f.loyalty.name} is free to join. Members earn ${f.loyalty.pointsPerDollar} point${f.loyalty.pointsPerDollar === 1 ? '' : 's'} for every dollar spent on delivered orders; ${f.loyalty.redeem} at checkout.`,
        `There are three tiers: ${f.loyalty.tiers}. Tiers are based on spend over the last 12 months and come with early access to sales, birthday rewards and, in the top tier, free express shipping.`,
        'Points are added when an order is delivered and removed if it is returned. Points expire after 18 months without any account activity.',
        'Points cannot be exchanged for cash or transferred between accounts.',
      ].join('\n\n'),
    },
    {
      slug: 'privacy',
      title: `${f.brand} privacy notice`,
      body: [
        `${f.brand} collects the personal data needed to process your orders: name, email, shipping and billing addresses, and order history. We use it to deliver orders, provide support and, if you agree, send offers.`,
        'We never sell personal data. We share it only with the service providers that help us run the shop (payment processing, carriers, email delivery), under contracts that limit its use.',
        `You can ask for a copy of your data, its correction or its deletion at any time by writing to ${f.privacyEmail}. We answer within 30 days. Order records we must keep for tax purposes are kept for the legally required period.`,
        'Our chat assistant sees your questions and the order data needed to answer them. Conversations are kept for 90 days to improve service quality, with email addresses and card numbers removed.',
        'We use cookies to keep you signed in and, with your consent, to measure how the site is used. You can change your consent in the cookie settings at any time.',
      ].join('\n\n'),
    },
  ];
}

/** Upserts a tenant's documents into the app store's `kb_documents`; returns how many. */
export async function seedKnowledgeBase(pool: Pick<pg.Pool, 'query'>, tenantId: string): Promise<number> {
  const docs = kbDocumentsFor(tenantId);
  if (docs.length === 0) return 0;
  await pool.query(
    `INSERT INTO kb_documents (tenant_id, slug, title, body)
     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[])
     ON CONFLICT (tenant_id, slug) DO UPDATE SET title = EXCLUDED.title, body = EXCLUDED.body, updated_at = now()
       WHERE kb_documents.body IS DISTINCT FROM EXCLUDED.body OR kb_documents.title IS DISTINCT FROM EXCLUDED.title`,
    [tenantId, docs.map((d) => d.slug), docs.map((d) => d.title), docs.map((d) => d.body)],
  );
  return docs.length;
}
