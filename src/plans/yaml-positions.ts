import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  type Pair,
  visit,
  type YAMLMap,
} from 'yaml';
import type { PathSegment } from '../contracts/validation-problems.js';

export type Position = { line: number; column: number };

/**
 * Finds where the field at a path is written in a parsed YAML (or JSON) document: its key, or the
 * nearest enclosing field's key when it is missing. A plan can have tens of thousands of problems,
 * so each lookup costs only the length of its path: a mapping's keys are indexed the first time
 * one is looked up in it, and every alias's anchor is found in one walk of the document (the yaml
 * library's own `Alias.resolve` walks the whole document on each call).
 */
export function positionLocator(
  doc: Document,
  lineCounter: LineCounter,
): (segments: readonly PathSegment[]) => Position | undefined {
  const keyIndexes = new WeakMap<YAMLMap, Map<string, Pair>>();
  let anchors: Map<Node, Node | undefined> | undefined;
  const keyIndex = (map: YAMLMap) => {
    let index = keyIndexes.get(map);
    if (!index) {
      index = new Map();
      for (const pair of map.items) {
        // The first of repeated keys, as a search from the top finds it (repeats are refused anyway).
        if (isScalar(pair.key) && !index.has(String(pair.key.value))) index.set(String(pair.key.value), pair);
      }
      keyIndexes.set(map, index);
    }
    return index;
  };
  const resolve = (alias: Node) => {
    anchors ??= aliasTargets(doc);
    return anchors.get(alias);
  };

  return (segments) => {
    let node: unknown = doc.contents;
    let offset = (node as Node | null)?.range?.[0];
    for (const segment of segments) {
      if (isAlias(node)) node = resolve(node);
      if (isMap(node)) {
        const pair = keyIndex(node).get(String(segment));
        if (!pair) break;
        offset = (pair.key as Node).range?.[0] ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment] as Node | undefined;
        if (!item) break;
        offset = item.range?.[0] ?? offset;
        node = item;
      } else {
        break;
      }
    }
    if (offset === undefined) return undefined;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
}

/** Each alias with the node it names: the last one before it, in document order, with its anchor. */
function aliasTargets(doc: Document): Map<Node, Node | undefined> {
  const named = new Map<string, Node>();
  const targets = new Map<Node, Node | undefined>();
  visit(doc, {
    Node: (_key, node) => {
      if (isAlias(node)) targets.set(node, named.get(node.source));
      else if (node.anchor) named.set(node.anchor, node);
    },
  });
  return targets;
}
