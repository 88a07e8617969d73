import { readFileSync, writeFileSync } from 'node:fs';

export interface Row {
  scenario: string;
  candidate: string;
  unit: string;
  median: number | undefined;
  /** candidate's median relative to the baseline's, oriented so > 1 means the baseline is better. */
  ratio: number | undefined;
  note?: string;
}

function fmt(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '-';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(3);
}

export function table(rows: Row[], baselineOf: (scenario: string) => string): string {
  const lines = ['| scenario | candidate | median | unit | baseline advantage |', '|---|---|---:|---|---:|'];
  for (const r of rows) {
    const isBase = baselineOf(r.scenario) === r.candidate;
    const ratio = r.note
      ? r.note
      : isBase
        ? '(baseline)'
        : r.ratio === undefined
          ? '-'
          : `${r.ratio.toFixed(2)}x`;
    lines.push(
      `| ${r.scenario} | ${isBase ? `**${r.candidate}**` : r.candidate} | ${fmt(r.median)} | ${r.unit} | ${ratio} |`,
    );
  }
  return lines.join('\n');
}

/** Replaces (or appends) the section between `<!-- bench:name -->` markers, leaving other sections alone. */
export function writeSection(file: string, name: string, body: string): void {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    text =
      '# Benchmarks\n\nProduced by `npm run bench` (all files) or `npm run bench -- <name>`; each section says how it was run.\n';
  }
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const section = `${start}\n${body.trim()}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  text =
    i >= 0 && j > i
      ? text.slice(0, i) + section + text.slice(j + end.length)
      : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
}
