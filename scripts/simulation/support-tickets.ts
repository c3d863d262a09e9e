import { tokenF1 } from '../../src/comparison/text-similarity.js';
import { stableIndex, stableUnit } from './stable-hash.js';

/**
 * The drafting simulation's ground truth (issue 17's second example, `support-reply-draft`):
 * synthetic support tickets, the reply the support agent sends (the human decision, a `text`
 * decision), and the drafts the simulated drafting AI writes. No model anywhere: each is a
 * template filled with the ticket's facts, chosen by a hash, so the same ticket always gives the
 * same message, the same agent reply and the same draft.
 *
 * The truth shared with the simulated judge: a draft is acceptable when
 * tokenF1(agent's reply, draft) >= ACCEPTABLE_F1 (token-f1 of src/comparison/text-similarity.ts).
 * An acceptable draft here is the agent's reply reworded (another greeting, another closing, a
 * sentence said differently): about 0.7 to 0.9. An unacceptable one answers another question
 * (the AI misread the ticket) or is a holding reply that answers nothing: about 0.05 to 0.4. Both
 * stay clear of the line (DRAFT_MARGIN), so a judge that is right is right by a wide margin.
 */

export const ACCEPTABLE_F1 = 0.5;
/** How far a simulated draft stays from the 0.5 line, either side: >= 0.6 or < 0.4. */
export const DRAFT_MARGIN = 0.1;

export const TOPICS = [
  'refund',
  'late-delivery',
  'password-reset',
  'double-charge',
  'cancel',
  'defect',
] as const;
export type Topic = (typeof TOPICS)[number];

/** What the help desk holds of a ticket: the customer's message and the facts the desk looked up. */
export interface TicketInput {
  ticketId: string;
  /** The desk's category of the ticket (its routing rules set it). */
  topic: Topic;
  customerName: string;
  orderId: string;
  product: string;
  /** USD, two decimals. */
  amount: number;
  /** Working days (a delivery's delay, a refund's processing time). */
  days: number;
  subject: string;
  message: string;
}

export interface TicketContext {
  channel: 'email' | 'chat' | 'web';
  tier: 'standard' | 'premium';
}

export interface SyntheticTicket {
  requestId: string;
  input: TicketInput;
  context: TicketContext;
}

const FIRST_NAMES = [
  'Ana',
  'Ben',
  'Chloé',
  'Dmitri',
  'Emeka',
  'Fatima',
  'Grace',
  'Hiro',
  'Ines',
  'Jonas',
  'Kofi',
  'Lena',
];
const PRODUCTS = [
  'Aero kettle',
  'Basalt desk lamp',
  'Cirrus headphones',
  'Delta backpack',
  'Ember coffee grinder',
  'Fjord rain jacket',
  'Granite cutting board',
  'Harbor office chair',
];
const AGENTS = ['Sam', 'Priya', 'Tomás', 'Mei'];

/** The k-th synthetic ticket of `seed` (the demo and the tests use the default seed). */
export function makeTicket(k: number, seed = 'tickets'): SyntheticTicket {
  const pick = <T>(list: readonly T[], what: string): T => list[stableIndex(list.length, seed, k, what)]!;
  const u = (what: string) => stableUnit(seed, k, what);
  const topic = pick(TOPICS, 'topic');
  const facts = {
    ticketId: `T-${String(100_000 + k)}`,
    topic,
    customerName: pick(FIRST_NAMES, 'name'),
    orderId: `ORD-${String(Math.floor(u('order') * 9_000_000) + 1_000_000)}`,
    product: pick(PRODUCTS, 'product'),
    amount: Math.round((15 + u('amount') * 485) * 100) / 100,
    days: 2 + Math.floor(u('days') * 9),
  };
  const [subject, message] = customerMessage(facts, Math.floor(u('phrasing') * 2));
  return {
    requestId: `ticket-${seed}-${k}`,
    input: { ...facts, subject, message },
    context: {
      channel: pick(['email', 'chat', 'web'] as const, 'channel'),
      tier: u('tier') < 0.2 ? 'premium' : 'standard',
    },
  };
}

type Facts = Omit<TicketInput, 'subject' | 'message'>;

function customerMessage(f: Facts, variant: number): [string, string] {
  const usd = money(f.amount);
  switch (f.topic) {
    case 'refund':
      return [
        `Refund for order ${f.orderId}`,
        variant === 0
          ? `Hi, I returned the ${f.product} from order ${f.orderId} two weeks ago and still have not seen the refund of ${usd}. Can you check? ${f.customerName}`
          : `Hello, where is my refund? I sent back the ${f.product} (order ${f.orderId}) and was promised ${usd} back. Thanks, ${f.customerName}`,
      ];
    case 'late-delivery':
      return [
        `Where is order ${f.orderId}?`,
        variant === 0
          ? `My ${f.product} (order ${f.orderId}) was supposed to arrive last week. The tracking has not moved for days. ${f.customerName}`
          : `Hi, order ${f.orderId} is late and I need the ${f.product} soon. What is going on? ${f.customerName}`,
      ];
    case 'password-reset':
      return [
        'Cannot log in',
        variant === 0
          ? `I reset my password three times and the link never arrives. I need to see my order ${f.orderId}. ${f.customerName}`
          : `Hello, I am locked out of my account and the reset email does not come. ${f.customerName}`,
      ];
    case 'double-charge':
      return [
        `Charged twice for ${f.orderId}`,
        variant === 0
          ? `My card was charged ${usd} twice for order ${f.orderId} (${f.product}). Please refund one of them. ${f.customerName}`
          : `Hi, I see two payments of ${usd} for the same order ${f.orderId}. That is a mistake, right? ${f.customerName}`,
      ];
    case 'cancel':
      return [
        `Cancel order ${f.orderId}`,
        variant === 0
          ? `Please cancel order ${f.orderId}, I ordered the ${f.product} by mistake. ${f.customerName}`
          : `Hello, I changed my mind about the ${f.product}. Can order ${f.orderId} still be cancelled? ${f.customerName}`,
      ];
    case 'defect':
      return [
        `${f.product} broken`,
        variant === 0
          ? `The ${f.product} from order ${f.orderId} stopped working after two days. I want a replacement. ${f.customerName}`
          : `Hi, my new ${f.product} arrived damaged (order ${f.orderId}). What can you do? ${f.customerName}`,
      ];
  }
}

/**
 * The body of a reply on `topic` (what the agent says, before greeting and closing). Two wordings
 * of each sentence: the agent writes with wording 0, an acceptable draft mixes both.
 */
function replyBody(topic: Topic, f: Facts): Array<[string, string]> {
  const usd = money(f.amount);
  switch (topic) {
    case 'refund':
      return [
        [
          `I checked order ${f.orderId}: your return of the ${f.product} arrived at our warehouse and the refund of ${usd} was approved today.`,
          `I looked at order ${f.orderId}: the ${f.product} you returned reached our warehouse and your refund of ${usd} was approved today.`,
        ],
        [
          `It goes back to the card you paid with and usually shows within ${f.days} working days.`,
          `The money goes back to your card and should show within ${f.days} working days.`,
        ],
        ['Sorry it took longer than it should have.', 'I am sorry this took longer than it should have.'],
      ];
    case 'late-delivery':
      return [
        [
          `I am sorry your ${f.product} (order ${f.orderId}) is late: the carrier held the parcel at its depot.`,
          `Sorry that order ${f.orderId} is late: the carrier held your ${f.product} at its depot.`,
        ],
        [
          `It left the depot this morning and should reach you within ${f.days} working days.`,
          `The parcel left the depot this morning and should arrive within ${f.days} working days.`,
        ],
        [
          'I have refunded the shipping cost for the trouble.',
          'For the trouble I refunded the shipping cost.',
        ],
      ];
    case 'password-reset':
      return [
        [
          'I found your account: the reset emails were blocked by a spam filter on our side, which we have fixed.',
          'Our spam filter blocked the reset emails to your account; that is fixed now.',
        ],
        [
          'I sent you a new reset link just now; it is valid for 24 hours.',
          'A new reset link is on its way to you and works for 24 hours.',
        ],
        [
          `Once you are in, order ${f.orderId} is under My orders.`,
          `After you log in you will find order ${f.orderId} under My orders.`,
        ],
      ];
    case 'double-charge':
      return [
        [
          `You are right: order ${f.orderId} was charged ${usd} twice because of a payment retry on our side.`,
          `Yes, the ${usd} for order ${f.orderId} was charged twice: our payment system retried by mistake.`,
        ],
        [
          `I refunded the second charge of ${usd} today; your bank should show it within ${f.days} working days.`,
          `The second ${usd} charge is refunded as of today and should show within ${f.days} working days.`,
        ],
        ['Sorry for the worry.', 'I am sorry for the worry this caused.'],
      ];
    case 'cancel':
      return [
        [
          `I cancelled order ${f.orderId} before it shipped, so the ${f.product} will not be sent.`,
          `Order ${f.orderId} is cancelled: the ${f.product} had not shipped yet.`,
        ],
        [
          `The ${usd} goes back to your card within ${f.days} working days.`,
          `You will get the ${usd} back on your card within ${f.days} working days.`,
        ],
        ['You do not need to do anything else.', 'There is nothing else you need to do.'],
      ];
    case 'defect':
      return [
        [
          `I am sorry the ${f.product} from order ${f.orderId} failed so soon.`,
          `Sorry that your ${f.product} (order ${f.orderId}) broke so soon.`,
        ],
        [
          `I have sent a replacement at no cost; it should arrive within ${f.days} working days.`,
          `A free replacement is on its way and should arrive within ${f.days} working days.`,
        ],
        [
          'Please keep the broken one until the courier collects it with the prepaid label in the box.',
          'Keep the broken one for the courier, who collects it with the prepaid label in the box.',
        ],
      ];
  }
}

/**
 * The reply the support agent sends for a ticket (the human decision): greeting, the topic's
 * sentences in the agent's wording, closing with the agent's name. A function of the ticket's
 * facts only, so the simulated AI can be made to know it (it is the truth it drafts towards).
 */
export function agentReply(t: TicketInput): string {
  const agent = AGENTS[stableIndex(AGENTS.length, 'agent', t.ticketId)]!;
  const body = replyBody(t.topic, t).map(([agentWording]) => agentWording);
  return [`Hi ${t.customerName},`, ...body, `Best regards, ${agent}, Customer Support`].join(' ');
}

const HOLDING_REPLIES = [
  'Thank you for contacting us. We have received your message and a member of our team will get back to you as soon as possible.',
  'Thanks for reaching out! Your request has been logged and we aim to respond within two business days. Kind regards, the team',
];

export interface SimulatedDraft {
  draft: string;
  /** Drawn acceptable (the AI drafted the right reply, reworded) or not (a wrong or empty answer). */
  acceptable: boolean;
}

/**
 * The simulated drafting AI's draft for a ticket: acceptable with probability `acceptableRate`,
 * drawn from the request id and `seed` (the same request always gets the same draft). Acceptable:
 * the agent's reply with another greeting and closing and each sentence, by a hash, in its other
 * wording. Unacceptable: the reply to another topic, or a holding reply that answers nothing.
 */
export function simulatedDraft(
  t: TicketInput,
  requestId: string,
  acceptableRate: number,
  seed: string,
): SimulatedDraft {
  const u = (what: string, ...more: Array<string | number>) => stableUnit(seed, requestId, what, ...more);
  if (u('acceptable') < acceptableRate) {
    const body = replyBody(t.topic, t).map(([agent, other], i) => (u('wording', i) < 0.5 ? other : agent));
    const draft = [`Hello ${t.customerName},`, ...body, 'Kind regards, Customer Support'].join(' ');
    // Rewording moves a draft to about 0.7 at the least (unit-tested on thousands of tickets); the
    // check keeps the promise if a template change ever moved one closer to the line.
    if (tokenF1(agentReply(t), draft) >= ACCEPTABLE_F1 + DRAFT_MARGIN) return { draft, acceptable: true };
    return { draft: agentReply(t), acceptable: true };
  }
  const holding = HOLDING_REPLIES[stableIndex(HOLDING_REPLIES.length, seed, requestId, 'holding')]!;
  if (u('kind') < 0.5) return { draft: holding, acceptable: false };
  // The reply to another topic: the ticket misread. Short replies on neighbouring topics share
  // much (the name, the order, "within N working days"), so the first other topic, from a hashed
  // start, that stays clearly below the line is taken; the holding reply when none does.
  const truth = agentReply(t);
  const others = TOPICS.filter((topic) => topic !== t.topic);
  const start = stableIndex(others.length, seed, requestId, 'wrong-topic');
  for (let i = 0; i < others.length; i++) {
    const wrong = others[(start + i) % others.length]!;
    const body = replyBody(wrong, t).map(([, other]) => other);
    const draft = [`Hello ${t.customerName},`, ...body, 'Kind regards, Customer Support'].join(' ');
    if (tokenF1(truth, draft) < ACCEPTABLE_F1 - DRAFT_MARGIN) return { draft, acceptable: false };
  }
  return { draft: holding, acceptable: false };
}

/** Whether `input` is a ticket the drafting simulation can answer (the AI reads only these fields). */
export function isTicketInput(input: unknown): input is TicketInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return false;
  const t = input as Record<string, unknown>;
  return (
    typeof t.ticketId === 'string' &&
    (TOPICS as readonly unknown[]).includes(t.topic) &&
    typeof t.customerName === 'string' &&
    typeof t.orderId === 'string' &&
    typeof t.product === 'string' &&
    typeof t.amount === 'number' &&
    Number.isFinite(t.amount) &&
    typeof t.days === 'number' &&
    Number.isInteger(t.days)
  );
}

/** The truth line: tokenF1(human reply, draft) >= 0.5. */
export function isAcceptableDraft(humanReply: string, draft: string): boolean {
  return tokenF1(humanReply, draft) >= ACCEPTABLE_F1;
}

function money(amount: number): string {
  return `$${amount.toFixed(2)}`;
}
