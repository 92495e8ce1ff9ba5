// Policy documents written for this project, one set of six per demo tenant. Each document is one
// template filled from the tenant's policy facts and brand voice, so the two shops differ exactly where
// their policies differ and cannot drift apart anywhere else.

/** One knowledge-base document. */
export interface KbDocument {
  slug: string;
  title: string;
  body: string;
}

interface TenantPolicy {
  brand: string;
  /** The brand's voice: one opening sentence per document and a sign-off. */
  voice: { shipping: string; returns: string; warranty: string; payments: string; loyalty: string; privacy: string; signOff: string };
  supportEmail: string;
  supportHours: string;
  shipping: {
    freeOver: number;
    freeArea: string;
    standard: { price: string; days: string };
    express: { name: string; price: string; days: string };
    cutoff: string;
    warehouses: string;
    international: string;
  };
  returns: {
    days: number;
    label: string;
    refundTime: string;
    extra: string;
  };
  warranty: { years: number; electronics: string; claimWindow: string };
  payments: { methods: string; payLater: string; business: string; currency: string };
  loyalty: {
    name: string;
    pointsPerDollar: number;
    redeem: string;
    tiers: readonly { name: string; rule: string; perks: string }[];
    expiry: string;
    birthday: string;
  };
  privacy: { email: string; law: string; responseTime: string; orderRetention: string; chatRetention: string };
}

const POLICIES: Record<string, TenantPolicy> = {
  acme: {
    brand: 'Acme Outfitters',
    voice: {
      shipping: "Whether you're packing for a weekend on the trail or restocking the kitchen, we want your gear to reach you fast.",
      returns: "We stand behind everything we sell, and if something isn't right, sending it back should be easy.",
      warranty: 'Good gear should last for many seasons, and we back that with a warranty on every product we sell.',
      payments: 'Checking out at Acme Outfitters should be as simple as lacing up your boots.',
      loyalty: 'The Acme Trail Club is our way of saying thanks to the people who keep coming back.',
      privacy: 'You trust us with your information when you shop with us, and we take that seriously.',
      signOff: 'Questions? Our crew is happy to help.',
    },
    supportEmail: 'help@acme.example',
    supportHours: 'Monday to Friday, 8 a.m. to 8 p.m. Eastern Time',
    shipping: {
      freeOver: 50,
      freeArea: 'within the contiguous United States',
      standard: { price: '$5.95', days: '3 to 5 business days' },
      express: { name: 'Expedited shipping', price: '$14.95', days: '2 business days' },
      cutoff: '2 p.m. Eastern Time',
      warehouses: 'our distribution centers in Reno, Nevada and Columbus, Ohio',
      international:
        'We also ship to Canada, Mexico and selected countries in Europe, Asia Pacific and Latin America. International shipping is a flat $19.95 and usually takes 7 to 14 business days. Import duties and taxes are collected by the carrier on delivery and are not part of your order total.',
    },
    returns: {
      days: 30,
      label: 'Returns within the United States are free: we email you a prepaid label, or you can drop the parcel at any partner location.',
      refundTime: '5 to 7 business days',
      extra:
        'Prefer to keep shopping? Choose store credit instead of a refund and we add a 10% bonus to the amount. Outdoor gear that has been used on a trip cannot be returned, but it is still covered by our warranty if something fails.',
    },
    warranty: {
      years: 1,
      electronics: 'Electronics also carry the manufacturer’s own warranty, and we help you file that claim if the fault appears after our warranty ends.',
      claimWindow: 'as soon as you notice the problem',
    },
    payments: {
      methods: 'Visa, Mastercard, American Express, Discover, PayPal, Apple Pay, Google Pay and Acme Outfitters gift cards',
      payLater: 'Orders between $100 and $1,500 can be split into four interest-free payments, due every two weeks.',
      business: 'Teams, clubs and schools can open a business account with tax-exempt purchasing; send your exemption certificate to our support team.',
      currency: 'All prices are in US dollars, and sales tax is added at checkout where we are required to collect it.',
    },
    loyalty: {
      name: 'Acme Trail Club',
      pointsPerDollar: 1,
      redeem: 'Every 100 points are worth $5 off a future order.',
      tiers: [
        { name: 'Base Camp', rule: 'as soon as you join', perks: 'member-only sales and early access to new gear' },
        { name: 'Ridge', rule: 'after $500 of purchases in a calendar year', perks: '1.25 points per dollar and free expedited shipping on two orders a year' },
        { name: 'Summit', rule: 'after $1,500 of purchases in a calendar year', perks: '1.5 points per dollar, free expedited shipping on every order and invitations to guided group hikes' },
      ],
      expiry: 'Points expire 12 months after they are earned.',
      birthday: 'Every member gets 250 bonus points in their birthday month.',
    },
    privacy: {
      email: 'privacy@acme.example',
      law: 'Residents of California and other US states with privacy laws have the right to know, correct and delete their personal information and to opt out of targeted advertising.',
      responseTime: '45 days',
      orderRetention: 'seven years, as US tax rules require',
      chatRetention: '90 days',
    },
  },
  globex: {
    brand: 'Globex Market',
    voice: {
      shipping: 'Globex Market carries thousands of everyday products, and we make getting them to your door simple and predictable.',
      returns: 'Changed your mind? No problem. Globex Market offers one of the longest return windows in online retail.',
      warranty: 'Everything sold on Globex Market is covered by the Globex Guarantee, our warranty against defects.',
      payments: 'Globex Market supports a wide range of payment methods so you can pay the way that suits you.',
      loyalty: 'Globex Rewards turns everyday shopping into savings: the more you shop, the more you get back.',
      privacy: 'This notice explains what personal data Globex Market collects, why we collect it and the choices you have.',
      signOff: 'For anything not covered here, contact Globex Customer Care.',
    },
    supportEmail: 'care@globex.example',
    supportHours: 'every day from 7 a.m. to 11 p.m. Central European Time',
    shipping: {
      freeOver: 75,
      freeArea: 'to addresses in the United States, Canada and the European Union',
      standard: { price: '$6.95', days: '4 to 6 business days' },
      express: { name: 'Express delivery', price: '$16.95', days: '1 to 2 business days' },
      cutoff: '12 noon local time',
      warehouses: 'our fulfillment centers in Dayton, Ohio and Rotterdam, the Netherlands',
      international:
        'For addresses outside the United States, Canada and the European Union, shipping costs and delivery estimates are calculated at checkout. Duties and import taxes for these destinations are shown and charged at checkout, so there is nothing extra to pay on delivery.',
    },
    returns: {
      days: 60,
      label: 'Return shipping is free for every order: print the label from your account, or show the QR code at a partner drop-off point. For large items such as furniture and appliances we arrange a collection from your home.',
      refundTime: '3 to 5 business days',
      extra:
        'Opened large appliances are subject to a 10% restocking fee unless they are faulty. Electronics must be returned with all accessories, manuals and packaging.',
    },
    warranty: {
      years: 2,
      electronics: 'For electronics and small appliances that stop working in the first 14 days, we send a replacement before you return the faulty unit.',
      claimWindow: 'within two months of noticing the problem',
    },
    payments: {
      methods: 'Visa, Mastercard, American Express, PayPal, Apple Pay, Google Pay, SEPA bank transfer and Globex Market gift cards',
      payLater: 'Orders over $150 can be paid in three equal monthly installments with no interest and no fees when you pay on time.',
      business: 'Registered business customers can pay by invoice with net-30 terms after a quick credit check, and receive VAT invoices for every order.',
      currency: 'Prices are shown in US dollars; if your card is in another currency, your bank converts the amount at its own rate.',
    },
    loyalty: {
      name: 'Globex Rewards',
      pointsPerDollar: 2,
      redeem: 'Every 500 points can be redeemed for $10 off at checkout.',
      tiers: [
        { name: 'Silver', rule: 'when you create your account', perks: 'personalized offers and a points bonus on your first order' },
        { name: 'Gold', rule: 'after $600 of purchases in the last 12 months', perks: '2.5 points per dollar and free express delivery on orders over $150' },
        { name: 'Platinum', rule: 'after $1,500 of purchases in the last 12 months', perks: '3 points per dollar, free express delivery on every order and a dedicated Customer Care line' },
      ],
      expiry: 'Points expire 24 months after they are earned.',
      birthday: 'Gold and Platinum members receive a $10 voucher on their birthday.',
    },
    privacy: {
      email: 'privacy@globex.example',
      law: 'Under the EU General Data Protection Regulation and similar laws you may access, correct, delete or export your personal data, object to its use for marketing, and complain to your data protection authority.',
      responseTime: 'one month',
      orderRetention: 'six years, as accounting rules require',
      chatRetention: 'six months',
    },
  },
};

const usd = (n: number) => `$${n}`;
const paragraphs = (...ps: string[]) => ps.join('\n\n');

function shipping(p: TenantPolicy): KbDocument {
  const s = p.shipping;
  return {
    slug: 'shipping',
    title: `${p.brand} shipping policy`,
    body: paragraphs(
      `${p.voice.shipping} Orders over ${usd(s.freeOver)} ship free ${s.freeArea}. Orders below ${usd(s.freeOver)} pay a flat ${s.standard.price} for standard shipping.`,
      `Standard shipping takes ${s.standard.days}. ${s.express.name} costs ${s.express.price} and arrives in ${s.express.days}. Delivery estimates start when your order leaves the warehouse, and they do not include weekends or public holidays.`,
      `Orders placed before ${s.cutoff} on a business day leave ${s.warehouses} the same day; later orders leave on the next business day. You receive an email with a tracking link as soon as the carrier has your parcel. If your order contains items stored in different warehouses, it may arrive in more than one parcel, but you only pay shipping once.`,
      s.international,
      `If tracking shows a parcel as delivered but you cannot find it, please wait one business day, since carriers sometimes scan parcels early, and check with neighbors or your building's mailroom. If it still has not turned up, contact us at ${p.supportEmail}: we open an investigation with the carrier and send a replacement or a full refund if the parcel is not found within seven days.`,
      `We cannot change the delivery address once an order has shipped, but the carrier's tracking page usually lets you pick a new delivery day or a pickup point. ${p.voice.signOff} We answer ${p.supportHours}.`,
    ),
  };
}

function returns(p: TenantPolicy): KbDocument {
  const r = p.returns;
  return {
    slug: 'returns',
    title: `${p.brand} returns and refunds`,
    body: paragraphs(
      `${p.voice.returns} You can return most items within ${r.days} days of delivery for a full refund. Items should be unused and in their original packaging, with any tags still attached.`,
      `To start a return, open the order in your account and choose "Return items", or contact us at ${p.supportEmail} with your order number. ${r.label}`,
      `Once your return arrives and has been checked, we refund the original payment method. Refunds are issued within ${r.refundTime}, and your bank may need a few more days to show the money in your account. The original shipping charge is refunded too when the whole order is returned or the item is faulty.`,
      `After ${r.days} days from delivery we can no longer accept a return, but faulty items are still covered by our warranty. ${r.extra}`,
      'A few items cannot be returned for hygiene or safety reasons: opened beauty and personal care products, grocery items, gift cards and personalized products. Items marked "final sale" cannot be returned either; every other sale item follows the normal return policy.',
      'Need a different size or color? Start a return for the item you have and place a new order for the one you want. The new item ships right away, without waiting for your return to arrive.',
      p.voice.signOff,
    ),
  };
}

function warranty(p: TenantPolicy): KbDocument {
  const w = p.warranty;
  const years = w.years === 1 ? '1-year' : `${w.years}-year`;
  return {
    slug: 'warranty',
    title: `${p.brand} warranty`,
    body: paragraphs(
      `${p.voice.warranty} Every product sold by ${p.brand} comes with a ${years} warranty against defects in materials and workmanship, starting on the day it is delivered. ${w.electronics}`,
      'The warranty covers faults that appear under normal use: a zipper that fails, a seam that opens, a device that stops charging, a handle that comes loose. It does not cover normal wear and tear, accidental damage, damage from misuse or improper care, or products that have been modified or repaired by someone else.',
      `To make a claim, contact us ${w.claimWindow} at ${p.supportEmail}. Include your order number, a short description of the fault and a photo or video that shows it. Most claims are decided within two business days, and we never ask you to send an item back before we have agreed the claim is covered.`,
      'Depending on the product and the fault, we repair it, replace it with the same item, or refund what you paid. If the product is no longer sold, we offer a comparable product or store credit for the full purchase price. We cover the cost of shipping for approved claims in both directions.',
      `A repaired or replacement item is covered for the rest of the original warranty period or for 90 days, whichever is longer. Your warranty is in addition to any rights you have under consumer protection law, which it does not limit. ${p.voice.signOff}`,
    ),
  };
}

function payments(p: TenantPolicy): KbDocument {
  const m = p.payments;
  return {
    slug: 'payments',
    title: `${p.brand} payment options`,
    body: paragraphs(
      `${p.voice.payments} We accept ${m.methods}. ${m.currency}`,
      'Your payment method is authorized when you place an order and charged when the order ships. If your order ships in several parcels, you may see several charges that add up to the order total. Authorizations for canceled orders are released right away, though some banks take a few days to remove them from your statement.',
      `${m.payLater} The option appears at checkout when your order qualifies, and approval takes only a few seconds. ${m.business}`,
      `Card payments are processed by a certified payment provider. ${p.brand} never stores your full card number, and we will never ask for it by email, chat or phone. If someone does, please do not reply and let us know at ${p.supportEmail}.`,
      'If a payment is declined, check that the billing address matches the one your bank has on file and that the card has not expired, then try again or choose a different method. Gift cards never expire, can be combined with one other payment method, and can be checked for their balance in your account.',
      p.voice.signOff,
    ),
  };
}

function loyalty(p: TenantPolicy): KbDocument {
  const l = p.loyalty;
  const tiers = l.tiers.map((t) => `${t.name}, reached ${t.rule}, includes ${t.perks}.`).join(' ');
  return {
    slug: 'loyalty',
    title: `${l.name} loyalty program`,
    body: paragraphs(
      `${p.voice.loyalty} Membership is free: sign up in your account or at checkout. Members earn ${l.pointsPerDollar} ${l.pointsPerDollar === 1 ? 'point' : 'points'} for every dollar spent on products, before taxes and shipping. ${l.redeem}`,
      `The program has ${['no', 'one', 'two', 'three', 'four'][l.tiers.length] ?? l.tiers.length} tiers, based on how much you spend. ${tiers} When you reach a tier, its benefits start right away and last at least until the end of the following year.`,
      `Points are added to your account when an order is delivered, and removed again if you return the items they were earned on. ${l.expiry} ${l.birthday}`,
      'You can redeem points at checkout on any order, together with any payment method. Points cannot be exchanged for cash, transferred to another member or used to buy gift cards. If a redeemed order is canceled, the points go back to your account.',
      `We may change the program's rewards with at least four weeks' notice by email; points you have already earned keep their value. ${p.voice.signOff}`,
    ),
  };
}

function privacy(p: TenantPolicy): KbDocument {
  const v = p.privacy;
  return {
    slug: 'privacy',
    title: `${p.brand} privacy notice`,
    body: paragraphs(
      `${p.voice.privacy} When you shop with us we collect your name, email address, shipping and billing addresses, phone number if you give one, your order history and the messages you send to customer support.`,
      'We use this information to process and deliver your orders, answer your questions, prevent fraud and meet our legal obligations. If you agree to it, we also use it to send you offers and recommendations; you can unsubscribe at any time from the link in every email.',
      `We never sell your personal data. We share it only with the companies that help us run the shop, such as payment processors, carriers and our email provider, and only under contracts that restrict how they may use it. ${v.law}`,
      `To exercise these rights, write to ${v.email}. We confirm your identity and answer within ${v.responseTime}. We keep order records for ${v.orderRetention}, and delete or anonymize other personal data when it is no longer needed.`,
      `Our chat assistant sees the questions you ask and the order information it needs to answer them. Email addresses and card numbers are removed from conversations before they are stored, and chat transcripts are kept for ${v.chatRetention} to improve our service.`,
      'We use cookies to keep you signed in and your cart saved. With your consent, we also use cookies to measure how our site is used and to show relevant ads elsewhere. You can change your choices at any time in the cookie settings at the bottom of every page.',
    ),
  };
}

/** The six policy documents of a demo tenant (shipping, returns, warranty, payments, loyalty, privacy); none for other tenants. */
export function kbDocumentsFor(tenantId: string): KbDocument[] {
  const p = POLICIES[tenantId];
  if (!p) return [];
  return [shipping(p), returns(p), warranty(p), payments(p), loyalty(p), privacy(p)];
}
