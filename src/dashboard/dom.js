// @ts-check
/**
 * Building DOM from the API's data. Text always goes in as text nodes (reasons, actors and
 * descriptions are typed by people), never as HTML.
 */

/**
 * @typedef {import('./api.js').CriterionStatus} CriterionStatus
 * @typedef {import('./api.js').GateVerdict} GateVerdict
 */

/**
 * What goes into an element: nodes and text, in arrays nested up to twice; null, undefined and
 * false are left out.
 * @typedef {Node | string | number | null | undefined | false} Child
 * @typedef {Child | Array<Child | Child[]>} Children
 */

/**
 * An element's properties: `class`, `text`, `dataset`, `on<event>` listeners, and attributes
 * (true: present and empty; null, undefined, false: left out).
 * @typedef {{ [name: string]: unknown, [listener: `on${string}`]: ((event: Event) => unknown) | undefined }} Props
 */

/**
 * A table cell: what it holds, or that with the cell's properties.
 * @typedef {Children | { props?: Props, content: Children }} Cell
 */

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props} [props]
 * @param {...Children} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = String(value);
    else if (name === 'text') node.textContent = String(value);
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function')
      node.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * An SVG element: attributes as given (null, undefined and false left out), text as text nodes.
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number | null | undefined | false>} [attributes]
 * @param {...Children} children
 * @returns {SVGElementTagNameMap[K]}
 */
export function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    node.setAttribute(name, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/**
 * The page's element with this id, typed as the caller says (index.html has every element the
 * modules look up).
 * @template {HTMLElement} [E=HTMLElement]
 * @param {string} id
 * @returns {E}
 */
export const byId = (id) => /** @type {E} */ (document.getElementById(id));

/**
 * @template {Node} N
 * @param {N} node
 * @returns {N}
 */
export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

/** @param {string} stage */
export function stageBadge(stage) {
  return el('span', { class: `badge stage stage-${stage}`, dataset: { field: 'stage' } }, stage);
}

/** @type {Record<GateVerdict, string>} */
const VERDICT_TEXT = {
  eligible: 'eligible',
  inconclusive: 'inconclusive',
  blocked: 'blocked',
  none: 'no gate',
};

/** @param {GateVerdict} verdict */
export function verdictBadge(verdict) {
  return el(
    'span',
    { class: `badge verdict verdict-${verdict}`, dataset: { field: 'verdict', value: verdict } },
    VERDICT_TEXT[verdict] ?? verdict,
  );
}

/** @type {Record<CriterionStatus, string>} */
const STATUS_MARK = { holds: '✓', inconclusive: '…', blocked: '✕' };

/** @param {CriterionStatus} status */
export function statusMark(status) {
  return el('span', { class: `mark mark-${status}`, 'aria-hidden': 'true' }, STATUS_MARK[status]);
}

/** A table from a header row and body rows (arrays of cells: nodes, strings or {props, content}). */
/**
 * @param {Cell[]} headers
 * @param {Array<Node | Cell[]>} rows
 * @param {Props} [props]
 */
export function table(headers, rows, props = {}) {
  /**
   * @param {'th' | 'td'} tag
   * @param {Cell} c
   */
  const cell = (tag, c) =>
    c && typeof c === 'object' && !(c instanceof Node) && 'content' in c
      ? el(tag, c.props ?? {}, c.content)
      : el(tag, {}, c);
  return el(
    'table',
    props,
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        headers.map((h) => cell('th', h)),
      ),
    ),
    el(
      'tbody',
      {},
      rows.map((r) =>
        r instanceof Node
          ? r
          : el(
              'tr',
              {},
              r.map((c) => cell('td', c)),
            ),
      ),
    ),
  );
}

/**
 * A number's cell, with `data-field` and `data-value` when `field` is given.
 * @param {Children} content
 * @param {string} [field]
 * @param {string | number | null} [value]
 * @returns {{ props: Props, content: Children }}
 */
export const num = (content, field, value) => ({
  props: { class: 'num', dataset: field ? { field, value: value ?? '' } : undefined },
  content,
});
