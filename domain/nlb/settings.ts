/**
 * The tuning of MSEC's NLB (msec-reference §1.2; nlb/src/comm/commstruct.h). Every constant of
 * selection and shaping is a setting: defaults are MSEC's, a client may override them, and a
 * routing table's `tuning` (MSEC's snake_case keys) overrides both for its service.
 */

export interface NlbSettings {
  /** A server's success ratio counts only once it has this many outcomes (MSEC: 10). */
  shapingRequestMin: number;
  /** At or above this success ratio a server gains weight (MSEC: 0.98). */
  successRatioBase: number;
  /** A picked server below this success ratio is replaced by a uniform pick (MSEC: 0.6). */
  successRatioMin: number;
  /** A dead server that answers again restarts at this share of its static weight (MSEC: 0.1). */
  resumeWeightRatio: number;
  /** Dead servers' share of the weight, and of the requests as probe budget (MSEC: 0.01). */
  deadRetryRatio: number;
  /** A server below this share of its static weight is "low" (MSEC: 0.5). */
  weightLowWatermark: number;
  /** When more than this share of servers is low, weights stop decreasing (MSEC: 0.5). */
  weightLowRatio: number;
  /** A healthy server gains this share of its static weight per window (MSEC: 0.05). */
  weightIncrRatio: number;
  /**
   * Static weights are multiplied by this before shaping. MSEC's weights are integers of
   * 100–10000, so 5 % steps and s² cuts stay meaningful; our console allows 1–10000, and
   * ×100 maps the smallest (1) to MSEC's smallest (100). Ratios between servers are unchanged.
   */
  weightScale: number;
  /** Length of a shaping window in ms (MSEC: 5000, per service). */
  windowMs: number;
}

export const defaultNlbSettings: Readonly<NlbSettings> = Object.freeze({
  shapingRequestMin: 10,
  successRatioBase: 0.98,
  successRatioMin: 0.6,
  resumeWeightRatio: 0.1,
  deadRetryRatio: 0.01,
  weightLowWatermark: 0.5,
  weightLowRatio: 0.5,
  weightIncrRatio: 0.05,
  weightScale: 100,
  windowMs: 5000,
});

/** MSEC's tuning keys (as written in /nameservice nodes) and the setting each one sets. */
export const tuningKeys: Readonly<Record<string, keyof NlbSettings>> = Object.freeze({
  shaping_request_min: 'shapingRequestMin',
  success_ratio_base: 'successRatioBase',
  success_ratio_min: 'successRatioMin',
  resume_weight_ratio: 'resumeWeightRatio',
  dead_retry_ratio: 'deadRetryRatio',
  weight_low_watermark: 'weightLowWatermark',
  weight_low_ratio: 'weightLowRatio',
  weight_incr_ratio: 'weightIncrRatio',
});

type Check = (v: number) => boolean;
const ratio: Check = (v) => v >= 0 && v <= 1;
const positiveRatio: Check = (v) => v > 0 && v <= 1;
const wholeAtLeast = (min: number): Check => (v) => Number.isInteger(v) && v >= min;

const valid: Record<keyof NlbSettings, Check> = {
  shapingRequestMin: wholeAtLeast(1),
  successRatioBase: positiveRatio,
  successRatioMin: ratio,
  resumeWeightRatio: positiveRatio,
  deadRetryRatio: ratio,
  weightLowWatermark: ratio,
  weightLowRatio: ratio,
  weightIncrRatio: positiveRatio,
  weightScale: wholeAtLeast(1),
  windowMs: wholeAtLeast(1),
};

export interface ResolvedSettings {
  settings: NlbSettings;
  /** Keys that were unknown or out of range, so ignored (for one log line). */
  ignored: string[];
}

/**
 * Layers settings: `base` (defaults, or a client's own), then the overrides. Overrides may use
 * MSEC's snake_case keys or our camelCase names; an unknown key or an out-of-range value is
 * ignored and named in `ignored`, so a bad tuning node never breaks routing.
 */
export function resolveNlbSettings(base: Partial<NlbSettings> = {}, overrides: Record<string, unknown> = {}): ResolvedSettings {
  const settings: NlbSettings = { ...defaultNlbSettings };
  const ignored: string[] = [];
  const apply = (source: Record<string, unknown>) => {
    for (const [key, value] of Object.entries(source)) {
      if (value === undefined) continue;
      const name = tuningKeys[key] ?? (key in valid ? (key as keyof NlbSettings) : undefined);
      if (!name || typeof value !== 'number' || !Number.isFinite(value) || !valid[name](value)) {
        ignored.push(key);
        continue;
      }
      settings[name] = value;
    }
  };
  apply(base);
  apply(overrides);
  return { settings, ignored };
}

/** The internal (scaled) static weight of a console weight; never below 1. */
export function scaledWeight(consoleWeight: number, settings: Pick<NlbSettings, 'weightScale'>): number {
  return Math.max(1, Math.round(consoleWeight * settings.weightScale));
}
