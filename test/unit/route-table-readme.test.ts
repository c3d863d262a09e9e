import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { routeDocs } from '../../scripts/docs-routes.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The README block between `<!-- name:begin -->` and `<!-- name:end -->`, markers included. */
function readmeBlock(name: string): string | undefined {
  const begin = README.indexOf(`<!-- ${name}:begin -->`);
  const endMarker = `<!-- ${name}:end -->`;
  const end = README.indexOf(endMarker, begin);
  return begin < 0 || end < 0 ? undefined : README.slice(begin, end + endMarker.length);
}

describe('the README tables written from the route table', () => {
  it.each(routeDocs().map((block) => [/<!-- (\w+):begin -->/.exec(block)![1]!, block]))(
    'when `npm run docs:routes` prints the %s table, then the README holds it between its markers as printed',
    (name, block) => {
      expect(readmeBlock(name), 'run `npm run docs:routes` and paste its output into README.md').toBe(block);
    },
  );
});
