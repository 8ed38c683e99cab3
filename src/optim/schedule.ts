/**
 * Learning-rate schedules: pure functions of the 0-based global step, described by a small
 * JSON-serialisable spec (so a checkpoint records the schedule, and a resumed run recomputes the
 * same rate at the same step without any schedule state).
 */
import { fail } from '../core/errors.js';
import { checkOptions } from '../core/options.js';

export type ScheduleKind = 'constant' | 'step' | 'cosine' | 'warmup-cosine' | 'exponential';
export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['constant', 'step', 'cosine', 'warmup-cosine', 'exponential'];

export interface ScheduleSpec {
  kind: ScheduleKind;
  /** Peak / initial learning rate. */
  lr: number;
  /** Total number of optimiser steps in the run (cosine, warmup-cosine). */
  totalSteps?: number;
  /** step: multiply by `gamma` every `stepSize` steps. exponential: by `gamma` per `stepSize` steps, continuously. */
  stepSize?: number;
  gamma?: number;
  /** warmup-cosine: linear warm-up length in steps. */
  warmupSteps?: number;
  /** cosine, warmup-cosine: rate reached at the last step (default 0). */
  minLr?: number;
}

export type Schedule = (step: number) => number;

function need(spec: ScheduleSpec, key: keyof ScheduleSpec, check: (v: number) => boolean, what: string): number {
  const v = spec[key];
  if (typeof v !== 'number' || !check(v)) fail('INVALID_ARGUMENT', `${spec.kind} schedule: ${key} must be ${what}, got ${String(v)}`);
  return v;
}

const positiveInt = (v: number): boolean => Number.isInteger(v) && v >= 1;

/** The learning rate at each 0-based step. Validates the spec up front. */
export function makeSchedule(spec: ScheduleSpec): Schedule {
  checkOptions('makeSchedule', spec, {
    kind: { kind: 'enum', values: SCHEDULE_KINDS, required: true }, lr: { kind: 'number', min: 0, required: true },
    totalSteps: { kind: 'int', min: 1 }, stepSize: { kind: 'int', min: 1 }, gamma: { kind: 'number', min: 0, exclusiveMin: true },
    warmupSteps: { kind: 'int', min: 0 }, minLr: { kind: 'number', min: 0 },
  }, 'schedule');
  if (!SCHEDULE_KINDS.includes(spec.kind)) fail('INVALID_ARGUMENT', `unknown schedule '${String(spec.kind)}': expected one of ${SCHEDULE_KINDS.join(', ')}`);
  const lr = need(spec, 'lr', (v) => Number.isFinite(v) && v >= 0, 'a finite number ≥ 0');
  switch (spec.kind) {
    case 'constant':
      return () => lr;
    case 'step': {
      const size = need(spec, 'stepSize', positiveInt, 'a positive integer');
      const gamma = need(spec, 'gamma', (v) => Number.isFinite(v) && v > 0, 'a positive number');
      return (s) => lr * Math.pow(gamma, Math.floor(s / size));
    }
    case 'exponential': {
      const size = need(spec, 'stepSize', positiveInt, 'a positive integer');
      const gamma = need(spec, 'gamma', (v) => Number.isFinite(v) && v > 0, 'a positive number');
      return (s) => lr * Math.pow(gamma, s / size);
    }
    case 'cosine': {
      const total = need(spec, 'totalSteps', positiveInt, 'a positive integer');
      const minLr = spec.minLr ?? 0;
      if (!(minLr >= 0 && minLr <= lr)) fail('INVALID_ARGUMENT', `cosine schedule: minLr must be in [0, lr = ${lr}], got ${minLr}`);
      return (s) => cosine(lr, minLr, Math.min(s, total - 1), total - 1);
    }
    case 'warmup-cosine': {
      const total = need(spec, 'totalSteps', positiveInt, 'a positive integer');
      const warm = need(spec, 'warmupSteps', (v) => Number.isInteger(v) && v >= 0 && v < total, `an integer in [0, totalSteps = ${total})`);
      const minLr = spec.minLr ?? 0;
      if (!(minLr >= 0 && minLr <= lr)) fail('INVALID_ARGUMENT', `warmup-cosine schedule: minLr must be in [0, lr = ${lr}], got ${minLr}`);
      return (s) => {
        // Warm-up ramps linearly so the first step already moves (lr/warm), reaching lr at step warm.
        if (s < warm) return (lr * (s + 1)) / warm;
        return cosine(lr, minLr, Math.min(s - warm, total - warm - 1), total - warm - 1);
      };
    }
  }
}

/** Half-cosine from `hi` at t = 0 to `lo` at t = span (span 0: stays at hi). */
function cosine(hi: number, lo: number, t: number, span: number): number {
  if (span <= 0) return hi;
  return lo + 0.5 * (hi - lo) * (1 + Math.cos((Math.PI * t) / span));
}

export function describeSchedule(spec: ScheduleSpec): string {
  switch (spec.kind) {
    case 'constant':
      return `constant ${spec.lr}`;
    case 'step':
      return `step: ${spec.lr} × ${spec.gamma}^⌊step/${spec.stepSize}⌋`;
    case 'exponential':
      return `exponential: ${spec.lr} × ${spec.gamma}^(step/${spec.stepSize})`;
    case 'cosine':
      return `cosine ${spec.lr} → ${spec.minLr ?? 0} over ${spec.totalSteps} steps`;
    case 'warmup-cosine':
      return `linear warm-up over ${spec.warmupSteps} steps, then cosine ${spec.lr} → ${spec.minLr ?? 0} until step ${spec.totalSteps}`;
  }
}
