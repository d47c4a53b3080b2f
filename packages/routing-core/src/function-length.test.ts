/**
 * No function in routing-core's source is longer than 80 lines (tests and
 * src/testing excepted): measured with the TypeScript compiler's own parser,
 * so a long arrow function or method counts as much as a declaration.
 */
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const MAX_LINES = 80;

/** This package's src directory, whether vitest runs from the repository root or the package. */
function sourceDirectory(): string {
  const cwd = ts.sys.getCurrentDirectory();
  const candidates = [`${cwd}/packages/routing-core/src/`, `${cwd}/src/`];
  const found = candidates.find((d) => ts.sys.fileExists(`${d}function-length.test.ts`));
  if (!found) throw new Error(`cannot find routing-core's src from ${cwd}`);
  return found;
}

interface LongFunction {
  file: string;
  line: number;
  name: string;
  lines: number;
}

/** Every function-like node with a body longer than `max` lines in one file's text. */
export function longFunctions(file: string, text: string, max: number): LongFunction[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: LongFunction[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      const name = node.name ? node.name.getText(source) : '(anonymous)';
      if (lines > max) out.push({ file, line: first + 1, name, lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

describe('function length', () => {
  it('measures what it should: a long function fails, a short one passes', () => {
    const body = Array.from({ length: MAX_LINES }, (_, i) => `  const x${i} = ${i};`).join('\n');
    expect(longFunctions('a.ts', `function long() {\n${body}\n}`, MAX_LINES)).toEqual([
      { file: 'a.ts', line: 1, name: 'long', lines: MAX_LINES + 2 },
    ]);
    const arrow = `export const f = () => {\n${body}\n};`;
    expect(longFunctions('b.ts', arrow, MAX_LINES)).toHaveLength(1);
    expect(longFunctions('c.ts', 'function short() {\n  return 1;\n}', MAX_LINES)).toEqual([]);
  });

  it(`no function in src is over ${MAX_LINES} lines`, () => {
    const dir = sourceDirectory();
    const files = ts.sys
      .readDirectory(dir, ['.ts'])
      .filter((f) => !f.endsWith('.test.ts') && !f.includes('/testing/'));
    expect(files.length).toBeGreaterThan(10);
    const long = files.flatMap((f) =>
      longFunctions(f.slice(dir.length), ts.sys.readFile(f) ?? '', MAX_LINES),
    );
    expect(long).toEqual([]);
  });
});
