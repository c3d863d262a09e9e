import { canonicalJson } from '../../src/contracts/canonical-json.js';
import { stableIndex, stableUnit } from './stable-hash.js';

/**
 * The ground truth of the simulations. Simulated humans decide with
 * `referenceLabel`, and the simulated AI system agrees with a human exactly
 * when it returns the reference label, so the agreement a simulation
 * produces can be checked against what Shadowgate measures.
 *
 * A test that wants to set the human labels itself (a traffic mix of exactly
 * 90/7/3, say) puts the label in the input as `referenceLabel`: when that
 * field is one of the labels, it is the reference label, and an AI with
 * `agreement: 0.97` gives it for 97% of the requests of every label.
 */

export interface InvoiceInput {
  invoiceId: string;
  vendor: string;
  vendorVerified: boolean;
  amount: number;
  currency: string;
  poNumber: string | null;
  lineItems: number;
  dueInDays: number;
}

export type Region = 'EU' | 'US' | 'APAC';
export type RiskTier = 'low' | 'medium' | 'high';

export interface InvoiceContext {
  region: Region;
  riskTier: RiskTier;
}

export interface SyntheticInvoice {
  requestId: string;
  input: InvoiceInput;
  context: InvoiceContext;
}

const INVOICE_LABELS = ['approve', 'reject', 'escalate'];

/**
 * The input's own `referenceLabel` when it is one of the labels; else the invoice policy (when the
 * labels are the invoice labels); else a hash of the canonical input.
 */
export function referenceLabel(input: unknown, labels: string[]): string {
  if (labels.length === 0) throw new Error('referenceLabel needs at least one label');
  const carried = carriedReference(input);
  if (carried !== undefined && labels.includes(carried)) return carried;
  if (INVOICE_LABELS.every((l) => labels.includes(l)) && isInvoiceLike(input)) return invoiceLabel(input);
  return labels[stableIndex(labels.length, 'reference', canonicalJson(input, 'integers-first'))]!;
}

/**
 * Large invoices go to a person; unverified vendors and missing purchase
 * orders are rejected above a limit and escalated below it.
 */
function invoiceLabel(inv: Pick<InvoiceInput, 'amount' | 'vendorVerified' | 'poNumber'>): string {
  if (inv.amount > 50_000) return 'escalate';
  if (!inv.vendorVerified && inv.amount > 1_000) return 'reject';
  if (inv.poNumber === null && inv.amount > 10_000) return 'reject';
  if (!inv.vendorVerified || inv.poNumber === null) return 'escalate';
  return 'approve';
}

function carriedReference(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return undefined;
  const value = (input as Record<string, unknown>).referenceLabel;
  return typeof value === 'string' ? value : undefined;
}

function isInvoiceLike(
  input: unknown,
): input is Pick<InvoiceInput, 'amount' | 'vendorVerified' | 'poNumber'> {
  if (typeof input !== 'object' || input === null) return false;
  const v = input as Record<string, unknown>;
  return (
    typeof v.amount === 'number' &&
    typeof v.vendorVerified === 'boolean' &&
    (v.poNumber === null || typeof v.poNumber === 'string')
  );
}

const VENDORS: Record<Region, Array<{ name: string; verified: boolean; currency: string }>> = {
  EU: [
    { name: 'Nordlicht Logistik GmbH', verified: true, currency: 'EUR' },
    { name: 'Azul Papelería S.L.', verified: true, currency: 'EUR' },
    { name: 'Brasserie Fournitures SARL', verified: true, currency: 'EUR' },
    { name: 'Polder Facility B.V.', verified: true, currency: 'EUR' },
    { name: 'Vistula Print Sp. z o.o.', verified: false, currency: 'EUR' },
    { name: 'Adriatic Consulting d.o.o.', verified: false, currency: 'EUR' },
  ],
  US: [
    { name: 'Cascade Office Supply Inc.', verified: true, currency: 'USD' },
    { name: 'Lone Star Freight LLC', verified: true, currency: 'USD' },
    { name: 'Bayview Cloud Services', verified: true, currency: 'USD' },
    { name: 'Granite State Janitorial', verified: true, currency: 'USD' },
    { name: 'Quickprint Express', verified: false, currency: 'USD' },
  ],
  APAC: [
    { name: 'Harbourfront Trading Pte Ltd', verified: true, currency: 'SGD' },
    { name: 'Southern Cross Catering Pty', verified: true, currency: 'AUD' },
    { name: 'Lion City IT Services', verified: true, currency: 'SGD' },
    { name: 'Outback Fleet Repairs', verified: false, currency: 'AUD' },
  ],
};

/**
 * The i-th synthetic invoice: about 45% EU, 35% US, 20% APAC; amounts
 * log-uniform from 100 to about 80,000; 12% without a purchase order, about
 * 12% from an unverified vendor.
 * The context's risk tier follows the amount, vendor and purchase order.
 */
export function makeInvoice(i: number): SyntheticInvoice {
  const u = (what: string) => stableUnit('invoice', i, what);
  const r = u('region');
  const region: Region = r < 0.45 ? 'EU' : r < 0.8 ? 'US' : 'APAC';
  const vendors = VENDORS[region];
  // skewed towards the first (verified) vendors of a region: about 12% of invoices have an unverified vendor
  const vendor = vendors[Math.floor(u('vendor') ** 2.5 * vendors.length)]!;
  const amount = Math.round(10 ** (2 + 2.9 * u('amount')) * 100) / 100;
  const poNumber = u('po') < 0.12 ? null : `PO-${String(Math.floor(u('po-number') * 1e6)).padStart(6, '0')}`;
  const seq = String(i).padStart(6, '0');
  const input: InvoiceInput = {
    invoiceId: `INV-${seq}`,
    vendor: vendor.name,
    vendorVerified: vendor.verified,
    amount,
    currency: vendor.currency,
    poNumber,
    lineItems: 1 + Math.floor(u('lines') * 12),
    dueInDays: [0, 15, 30, 45, 60][Math.floor(u('due') * 5)]!,
  };
  const riskTier: RiskTier =
    amount >= 20_000 || !vendor.verified ? 'high' : amount >= 2_000 || poNumber === null ? 'medium' : 'low';
  return { requestId: `inv-${seq}`, input, context: { region, riskTier } };
}
