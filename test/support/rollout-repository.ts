// A throwaway copy of the example fraud model's repository, for tests that change versions while
// serving: version folders are added and removed, config.pbtxt is rewritten (version_policy,
// traffic, warm-up), and a version may get its own preprocess.json so that its scores differ.

import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MODELS } from '../helpers';

const SOURCE = path.join(MODELS, 'fraud');

export interface RolloutRepository {
  root: string;
  dir: string;
  /** Adds version folder `version` (the same model.onnx); `shiftAmount` makes its scores differ. */
  addVersion(version: number, options?: { shiftAmount?: number; maxAmount?: number }): Promise<void>;
  removeVersion(version: number): Promise<void>;
  /** Rewrites config.pbtxt: the fraud config with this version_policy and extra lines. */
  writeConfig(options: { versionPolicy?: string; extra?: string[] }): Promise<void>;
  remove(): Promise<void>;
}

export async function rolloutRepository(versions: number[] = [1], config: { versionPolicy?: string; extra?: string[] } = {}): Promise<RolloutRepository> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'infergate-rollout-'));
  const dir = path.join(root, 'fraud');
  await fs.mkdir(dir);
  for (const f of ['preprocess.json', 'reference_scores.json']) await fs.copyFile(path.join(SOURCE, f), path.join(dir, f));
  const baseConfig = await fs.readFile(path.join(SOURCE, 'config.pbtxt'), 'utf8');
  const repo: RolloutRepository = {
    root,
    dir,
    async addVersion(version, options = {}) {
      const vdir = path.join(dir, String(version));
      await fs.mkdir(vdir, { recursive: true });
      await fs.copyFile(path.join(SOURCE, '1', 'model.onnx'), path.join(vdir, 'model.onnx'));
      if (options.shiftAmount !== undefined || options.maxAmount !== undefined) {
        const spec = JSON.parse(await fs.readFile(path.join(SOURCE, 'preprocess.json'), 'utf8')) as {
          fields: { name: string; max?: number }[];
          features: { field: string; steps: { op: string; mean?: number }[] }[];
        };
        if (options.shiftAmount !== undefined) {
          const step = spec.features.find((f) => f.field === 'amount')!.steps.find((s) => s.op === 'standardize')!;
          step.mean = (step.mean as number) - options.shiftAmount;
        }
        if (options.maxAmount !== undefined) spec.fields.find((f) => f.name === 'amount')!.max = options.maxAmount;
        await fs.writeFile(path.join(vdir, 'preprocess.json'), JSON.stringify(spec));
      }
    },
    async removeVersion(version) {
      await fs.rm(path.join(dir, String(version)), { recursive: true, force: true });
    },
    async writeConfig({ versionPolicy = 'latest: { num_versions: 1 }', extra = [] }) {
      const text = baseConfig.replace(/^version_policy: .*$/m, `version_policy: { ${versionPolicy} }`);
      await fs.writeFile(path.join(dir, 'config.pbtxt'), [text.trimEnd(), ...extra, ''].join('\n'));
    },
    async remove() {
      await fs.rm(root, { recursive: true, force: true });
    },
  };
  for (const v of versions) await repo.addVersion(v);
  await repo.writeConfig(config);
  return repo;
}

/** Records like the example, varied by `i` (amount, hour, risk); `withCustomer` adds a customer id field. */
export function varied(example: Record<string, unknown>, i: number, withCustomer = false): Record<string, unknown> {
  return {
    ...example,
    amount: 5 + ((i * 37) % 900) * 1.7,
    hour_of_day: i % 24,
    device_risk_score: ((i * 13) % 100) / 100,
    ...(withCustomer ? { customer_id: `customer-${i}` } : {}),
  };
}
