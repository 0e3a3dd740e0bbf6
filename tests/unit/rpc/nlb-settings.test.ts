/** NLB settings: MSEC's defaults, the client's own, the routing table's tuning keys on top. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { defaultNlbSettings, resolveNlbSettings, scaledWeight } from '../../../domain/nlb/index.ts';

test('MSEC\'s constants are the defaults', () => {
  assert.deepEqual(resolveNlbSettings().settings, {
    shapingRequestMin: 10, successRatioBase: 0.98, successRatioMin: 0.6, resumeWeightRatio: 0.1, deadRetryRatio: 0.01,
    weightLowWatermark: 0.5, weightLowRatio: 0.5, weightIncrRatio: 0.05, weightScale: 100, windowMs: 5000,
  });
  assert.deepEqual(resolveNlbSettings().settings, defaultNlbSettings);
});

test('tuning keys (snake_case) override the client\'s settings, which override the defaults', () => {
  const { settings, ignored } = resolveNlbSettings({ windowMs: 1000, successRatioMin: 0.5 }, { success_ratio_min: 0.7, dead_retry_ratio: 0.02 });
  assert.equal(settings.windowMs, 1000);
  assert.equal(settings.successRatioMin, 0.7);
  assert.equal(settings.deadRetryRatio, 0.02);
  assert.deepEqual(ignored, []);
});

test('unknown keys and out-of-range values are ignored and named', () => {
  const { settings, ignored } = resolveNlbSettings({}, { success_ratio_base: 1.5, shaping_request_min: 2.5, colour: 3, weight_incr_ratio: 0 });
  assert.equal(settings.successRatioBase, 0.98);
  assert.equal(settings.shapingRequestMin, 10);
  assert.equal(settings.weightIncrRatio, 0.05);
  assert.deepEqual(ignored.sort(), ['colour', 'shaping_request_min', 'success_ratio_base', 'weight_incr_ratio']);
});

test('console weights 1–10000 scale ×100 to internal weights 100–1 000 000', () => {
  assert.equal(scaledWeight(1, defaultNlbSettings), 100);
  assert.equal(scaledWeight(10000, defaultNlbSettings), 1_000_000);
  assert.equal(scaledWeight(0, defaultNlbSettings), 1);
});
