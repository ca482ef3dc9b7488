// SPDX-License-Identifier: Apache-2.0
/**
 * Gradient reachability: every trainable parameter of a module must receive a gradient of the right shape with
 * finite values (and, unless allowed, not identically zero) from a scalar objective.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '@solo-ts/core';
import { ContractViolation } from './tensors.js';

export interface GradientReport {
  /** Trainable parameters that were checked. */
  checked: string[];
  /** Parameters the objective does not depend on (no gradient at all). */
  missing: string[];
  /** Parameters whose gradient has another shape than the parameter. */
  wrongShape: string[];
  /** Parameters with NaN / Infinity in their gradient. */
  nonFinite: string[];
  /** Parameters whose gradient is identically zero. */
  zero: string[];
  /** The objective's value. */
  value: number;
}

/**
 * Gradients of `objective` (a scalar built from the module's forward pass) with respect to every trainable
 * parameter of `module`. Disposes everything it creates.
 */
export function gradientReport(module: Module, objective: () => tf.Scalar): GradientReport {
  const params = module.trainableParameters();
  const report: GradientReport = { checked: params.map(([n]) => n), missing: [], wrongShape: [], nonFinite: [], zero: [], value: NaN };
  if (params.length === 0) return report;
  const byVar = new Map(params.map(([n, p]) => [p.variable.name, n]));
  let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
  try {
    result = tf.variableGrads(objective, params.map(([, p]) => p.variable));
  } catch (e) {
    if (/Cannot find a connection/.test(String((e as Error).message))) {
      report.missing = [...report.checked];
      return report;
    }
    throw e;
  }
  try {
    report.value = result.value.dataSync()[0];
    for (const [, p] of params) {
      const name = byVar.get(p.variable.name)!;
      const g = result.grads[p.variable.name];
      if (!g) {
        report.missing.push(name);
        continue;
      }
      if (g.shape.length !== p.variable.shape.length || g.shape.some((d, i) => d !== p.variable.shape[i])) {
        report.wrongShape.push(`${name} (param [${p.variable.shape.join(', ')}], gradient [${g.shape.join(', ')}])`);
        continue;
      }
      const v = g.dataSync();
      let finite = true;
      let nonzero = false;
      for (let i = 0; i < v.length; i++) {
        if (!Number.isFinite(v[i])) finite = false;
        else if (v[i] !== 0) nonzero = true;
      }
      if (!finite) report.nonFinite.push(name);
      else if (!nonzero && v.length > 0) report.zero.push(name);
    }
  } finally {
    result.value.dispose();
    tf.dispose(Object.values(result.grads));
  }
  return report;
}

export interface GradientCheckOptions {
  /** Parameter names (exact, or RegExp) allowed to have an identically zero gradient. */
  allowZero?: Array<string | RegExp>;
  /** Parameter names allowed to receive no gradient at all. */
  allowMissing?: Array<string | RegExp>;
}

function matches(name: string, patterns: Array<string | RegExp> | undefined): boolean {
  return !!patterns?.some((p) => (typeof p === 'string' ? p === name : p.test(name)));
}

function list(xs: string[]): string {
  return xs.length > 10 ? `${xs.slice(0, 10).join(', ')}, ... (${xs.length} in all)` : xs.join(', ');
}

/** Throw a `ContractViolation` describing every parameter whose gradient is missing, misshapen, non-finite or zero. */
export function checkGradients(what: string, module: Module, objective: () => tf.Scalar, options: GradientCheckOptions = {}): GradientReport {
  const r = gradientReport(module, objective);
  const problems: string[] = [];
  if (r.checked.length === 0) problems.push('it has no trainable parameters');
  const missing = r.missing.filter((n) => !matches(n, options.allowMissing));
  const zero = r.zero.filter((n) => !matches(n, options.allowZero));
  if (missing.length) problems.push(`no gradient reaches ${missing.length} of ${r.checked.length} trainable parameters: ${list(missing)}`);
  if (r.wrongShape.length) problems.push(`gradient shapes differ from the parameters: ${list(r.wrongShape)}`);
  if (r.nonFinite.length) problems.push(`non-finite gradients: ${list(r.nonFinite)}`);
  if (zero.length) problems.push(`identically zero gradients: ${list(zero)}`);
  if (!Number.isFinite(r.value) && r.checked.length) problems.push(`the objective is not finite (${r.value})`);
  if (problems.length) throw new ContractViolation(`${what}: ${problems.join('; ')}`);
  return r;
}
