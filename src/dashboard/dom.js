/**
 * Building DOM from the API's data. Text always goes in as text nodes (reasons, actors and
 * descriptions are typed by people), never as HTML.
 */

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = String(value);
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function')
      node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

export function stageBadge(stage) {
  return el('span', { class: `badge stage stage-${stage}`, dataset: { field: 'stage' } }, stage);
}

const VERDICT_TEXT = {
  eligible: 'eligible',
  inconclusive: 'inconclusive',
  blocked: 'blocked',
  none: 'no gate',
};

export function verdictBadge(verdict) {
  return el(
    'span',
    { class: `badge verdict verdict-${verdict}`, dataset: { field: 'verdict', value: verdict } },
    VERDICT_TEXT[verdict] ?? verdict,
  );
}

const STATUS_MARK = { holds: '✓', inconclusive: '…', blocked: '✕' };

export function statusMark(status) {
  return el('span', { class: `mark mark-${status}`, 'aria-hidden': 'true' }, STATUS_MARK[status]);
}

/** A table from a header row and body rows (arrays of cells: nodes, strings or {props, content}). */
export function table(headers, rows, props = {}) {
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

export const num = (content, field, value) => ({
  props: { class: 'num', dataset: field ? { field, value: value ?? '' } : undefined },
  content,
});
