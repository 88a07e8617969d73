import type { StepResult } from './step-result.js';

/** Renders the summary as a fixed-width table (plain text: it ends up in CI logs and terminals alike). */
export function summaryTable(results: readonly StepResult[]): string {
  const header = { step: 'step', expected: 'expected', observed: 'observed', outcome: 'result' };
  const rows = [header, ...results.map((r) => ({ ...r, outcome: r.outcome.toUpperCase() }))];
  const width = (k: keyof typeof header, max: number) =>
    Math.min(max, Math.max(...rows.map((r) => r[k].length)));
  const w = {
    step: width('step', 24),
    expected: width('expected', 70),
    observed: width('observed', 90),
    outcome: 7,
  };
  const wrap = (text: string, n: number) => {
    const lines: string[] = [];
    let line = '';
    for (const word of text.split(' ')) {
      if (line && line.length + 1 + word.length > n) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
    return lines;
  };
  const out: string[] = [];
  const rule = `+-${'-'.repeat(w.step)}-+-${'-'.repeat(w.expected)}-+-${'-'.repeat(w.observed)}-+-${'-'.repeat(w.outcome)}-+`;
  out.push(rule);
  for (const [i, r] of rows.entries()) {
    const cells = {
      step: wrap(r.step, w.step),
      expected: wrap(r.expected, w.expected),
      observed: wrap(r.observed, w.observed),
      outcome: [r.outcome],
    };
    const height = Math.max(...Object.values(cells).map((c) => c.length));
    for (let l = 0; l < height; l++) {
      out.push(
        `| ${(cells.step[l] ?? '').padEnd(w.step)} | ${(cells.expected[l] ?? '').padEnd(w.expected)} | ${(cells.observed[l] ?? '').padEnd(w.observed)} | ${(cells.outcome[l] ?? '').padEnd(w.outcome)} |`,
      );
    }
    if (i === 0) out.push(rule);
  }
  out.push(rule);
  return out.join('\n');
}
