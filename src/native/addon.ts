// Loads the compiled addon (native/binding) and gives it types. Nothing else in src/ touches the
// .node file directly.

import * as path from 'node:path';

export type FieldType = 'number' | 'string' | 'boolean';
export type MissingPolicy = 'impute' | 'reject';

export interface PlanField {
  name: string;
  type: FieldType;
  missing: MissingPolicy;
  min?: number;
  max?: number;
  /** String fields: every string the plan knows, in first-seen order; a record sends its index. */
  vocabulary?: string[];
}

/** A compiled preprocess.json (docs/preprocess.md). Immutable; safe to share. */
export interface NativePreprocessPlan {
  readonly width: number;
  readonly outputName: string;
  readonly fields: PlanField[];
  /**
   * Runs the plan over `rows` encoded records (`raw`: rows × fields float64) and writes
   * rows × width float32 into `out`, in place.
   */
  run(raw: Float64Array, rows: number, out: Float32Array): void;
}

export interface NativeAddon {
  readonly version: string;
  PreprocessPlan: new (specJson: string) => NativePreprocessPlan;
}

// dist/src/native/addon.js → the package root is three levels up.
const ADDON_PATH = path.resolve(__dirname, '..', '..', '..', 'build', 'native', 'Release', 'infergate_native.node');

let cached: NativeAddon | undefined;

export function nativeAddon(): NativeAddon {
  if (cached === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      cached = require(ADDON_PATH) as NativeAddon;
    } catch (err) {
      throw new Error(
        `infergate's native addon could not be loaded from ${ADDON_PATH} (${(err as Error).message}). ` +
          'It is compiled by `npm ci` / `npm install`; rebuild it with `npm run build`.',
      );
    }
  }
  return cached;
}
