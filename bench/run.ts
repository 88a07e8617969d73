// Runs benchmark files (`bench/<name>.bench.ts`), interleaving candidates A B A B ... per round,
// and writes medians and ratios to BENCHMARKS.md. Usage: npm run bench [-- name ...] [--rounds N]
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench } from './lib/define.js';
import { environmentLine } from './lib/environment.js';
import { median } from './lib/measure.js';
import { type Row, table, writeSection } from './lib/report.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const roundsFlag = args.indexOf('--rounds');
const roundsOverride = roundsFlag >= 0 ? Number(args[roundsFlag + 1]) : undefined;
const names = args.filter((a, i) => !a.startsWith('--') && !(roundsFlag >= 0 && i === roundsFlag + 1));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .sort();
const selected = names.length > 0 ? names : available;
for (const name of selected) {
  if (!available.includes(name))
    throw new Error(`unknown benchmark "${name}"; available: ${available.join(', ')}`);
}

async function runBench(name: string): Promise<void> {
  const bench = (await import(pathToFileURL(join(here, `${name}.bench.ts`)).href)).default as Bench<unknown>;
  const rounds = roundsOverride ?? bench.rounds ?? 5;
  console.log(`\n## ${bench.title} (${rounds} interleaved rounds)`);
  const ctx = await bench.setup();
  const rows: Row[] = [];
  try {
    for (const scenario of bench.scenarios) {
      const order = Object.keys(scenario.candidates);
      const samples: Record<string, number[]> = Object.fromEntries(order.map((c) => [c, []]));
      for (let round = 0; round < rounds; round++) {
        for (const candidate of round % 2 === 0 ? order : [...order].reverse()) {
          samples[candidate]!.push(await scenario.candidates[candidate]!(ctx));
        }
      }
      const base = median(samples[scenario.baseline] ?? []);
      for (const candidate of order) {
        const m = median(samples[candidate]!);
        const ratio = scenario.better === 'higher' ? base / m : m / base;
        rows.push({ scenario: scenario.name, candidate, unit: scenario.unit, median: m, ratio });
        console.log(`  ${scenario.name} | ${candidate}: ${m.toFixed(3)} ${scenario.unit}`);
      }
      for (const [candidate, why] of Object.entries(scenario.skipped ?? {})) {
        rows.push({
          scenario: scenario.name,
          candidate,
          unit: scenario.unit,
          median: undefined,
          ratio: undefined,
          note: `not run: ${why}`,
        });
      }
    }
  } finally {
    await bench.teardown(ctx);
  }
  const baselineOf = (s: string) => bench.scenarios.find((x) => x.name === s)?.baseline ?? '';
  const body = [
    `## ${bench.title}`,
    '',
    bench.description ?? '',
    '',
    `Command: \`npm run bench -- ${name}${roundsOverride === undefined ? '' : ` --rounds ${roundsOverride}`}\` · ${rounds} interleaved rounds, medians · ${environmentLine()} · ${new Date().toISOString().slice(0, 10)}`,
    '',
    '"baseline advantage" is how many times better the bold baseline is than that row (> 1: baseline better).',
    '',
    table(rows, baselineOf),
  ].join('\n');
  writeSection(join(here, '..', 'BENCHMARKS.md'), name, body);
}

for (const name of selected) await runBench(name);
