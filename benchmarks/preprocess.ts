// `npm run bench -- preprocess`: what a record costs on its way into the model, per row, at batch
// sizes 1..256 — validation and encoding in JS, the native plan, and ONNX Runtime's own run — so
// that preprocessing's share of a request is a measured number. Closed-loop by design: it measures
// CPU cost per row, not latency under load (see the embedded benchmark for that).

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { Preprocessor } from '../src/preprocess/preprocessor';
import { type MachineInfo, machineInfo } from './machine';

interface Row {
  batch: number;
  encodeNsPerRow: number;
  planNsPerRow: number;
  ortNsPerRow: number;
  preprocessShare: number;
}

const ROOT = path.resolve(__dirname, '..', '..');
const MODEL_DIR = path.join(ROOT, 'models', 'fraud');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Median over `repeats` of the ns per call of `fn`, each repeat running for about `ms`. */
async function timeIt(fn: () => unknown | Promise<unknown>, ms: number, repeats: number): Promise<number> {
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) {
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < ms) {
      for (let i = 0; i < 16; i++) await fn();
      n += 16;
    }
    samples.push(((performance.now() - start) * 1e6) / n);
  }
  return median(samples);
}

export async function runPreprocessBench(quick: boolean): Promise<{ machine: MachineInfo; rows: Row[] }> {
  const spec = readFileSync(path.join(MODEL_DIR, 'preprocess.json'), 'utf8');
  const golden = JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'fraud', 'golden.json'), 'utf8')) as {
    rows: unknown[];
  };
  const pre = new Preprocessor(spec, 'preprocess.json', 'fraud');
  const session = await ort.InferenceSession.create(path.join(MODEL_DIR, '1', 'model.onnx'), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const ms = quick ? 150 : 600;
  const repeats = quick ? 3 : 7;
  const rows: Row[] = [];
  for (const batch of [1, 8, 32, 128, 256]) {
    const records = golden.rows.slice(0, batch);
    const raw = new Float64Array(batch * pre.encoder.fieldCount);
    const out = new Float32Array(batch * pre.width);
    const plan = pre.plan;
    const encode = () => records.forEach((rec, i) => pre.encoder.encode(rec, raw, i));
    encode();
    const encodeNs = await timeIt(encode, ms, repeats);
    const planNs = await timeIt(() => plan.run(raw, batch, out), ms, repeats);
    const feeds = { features: new ort.Tensor('float32', out, [batch, pre.width]) };
    const ortNs = await timeIt(() => session.run(feeds, ['probabilities']), ms, repeats);
    rows.push({
      batch,
      encodeNsPerRow: Math.round(encodeNs / batch),
      planNsPerRow: Math.round(planNs / batch),
      ortNsPerRow: Math.round(ortNs / batch),
      preprocessShare: Math.round(((encodeNs + planNs) / (encodeNs + planNs + ortNs)) * 1000) / 1000,
    });
  }
  await session.release();
  return { machine: machineInfo(), rows };
}

export function preprocessMarkdown(result: { machine: MachineInfo; rows: Row[] }, command: string): string {
  const m = result.machine;
  const lines = [
    '# Preprocessing cost per row (fraud model)',
    '',
    `Command: \`${command}\``,
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}, load ${m.loadAverage.join(' ')}`,
    '',
    'Median ns per row; one thread. "encode" validates a JS record and writes its compact float64 row;',
    '"plan" is the native preprocessing into the float32 batch tensor; "ORT" is `session.run` of the trees.',
    '',
    '| batch | encode ns/row | plan ns/row | ORT ns/row | preprocessing share |',
    '|---:|---:|---:|---:|---:|',
    ...result.rows.map((r) => `| ${r.batch} | ${r.encodeNsPerRow} | ${r.planNsPerRow} | ${r.ortNsPerRow} | ${(r.preprocessShare * 100).toFixed(1)} % |`),
    '',
  ];
  return lines.join('\n');
}
