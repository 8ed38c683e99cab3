/**
 * The 2-D natural-gradient toy of "Trade-Offs of Diagonal Fisher Information Matrix
 * Estimators" (its Figure 1 and Appendix A): linear regression (Gaussian, σ = 1) and logistic
 * regression (Bernoulli) with h_θ(x) = θᵀx, x ~ N(0, I₂), θ_true = (1, 1), 256 training and
 * 4096 test points, natural-gradient descent with lr 0.01 on minibatches of 4 points, the Fisher
 * estimated by Î1 or Î2 from one label per input sampled from the model at those points.
 *
 * Not given by the paper, chosen here and reported: the damping (1e-4·I added before solving),
 * the initial θ (drawn N(0, I) from the seed), and how the "variance sum" is measured: the sum
 * over the 2×2 entries of the sample variance of the 4-point estimate over 128 fresh joint
 * draws (inputs from the training set, labels from the model) at the current θ.
 */
import { Rng } from '../core/rng.js';
import { checkOptions } from '../core/options.js';
import { Tensor } from '../core/tensor.js';
import { grad } from '../autodiff/grad.js';
import { noGrad } from '../autodiff/tape.js';
import { makeSyntheticSplit } from '../data/synthetic.js';
import { subset, type Dataset } from '../data/dataset.js';
import { makeLikelihood, type Likelihood } from '../likelihoods/index.js';
import { buildModel, type Sequential } from '../nn/sequential.js';
import { computeFisher } from '../fisher/compute.js';

export interface ToyOptions {
  task: 'regression' | 'classification';
  estimator: 'i1' | 'i2';
  epochs?: number;
  lr?: number;
  damping?: number;
  seed?: number;
  /** Joint draws for the variance sum (per recorded epoch). */
  varianceDraws?: number;
  /** Record test loss and variance every this many epochs (default 1). */
  recordEvery?: number;
}

export interface ToyCurve {
  task: ToyOptions['task'];
  estimator: ToyOptions['estimator'];
  epochs: number[];
  testLoss: number[];
  varianceSum: number[];
  theta: [number, number][];
  /** Steps whose solve failed or gave a non-finite step (the estimator's instability). */
  unstableSteps: number;
}

function meanNll(model: Sequential, lik: Likelihood, ds: Dataset): number {
  return noGrad(() => lik.nll(model.forward(new Tensor(Float64Array.from(ds.inputs), [ds.length, 2])), ds.targets).item());
}

export function runToy(o: ToyOptions): ToyCurve {
  checkOptions('runToy', o, {
    task: { kind: 'enum', values: ['regression', 'classification'], required: true }, estimator: { kind: 'enum', values: ['i1', 'i2'], required: true },
    epochs: { kind: 'int', min: 1 }, lr: { kind: 'number', min: 0, exclusiveMin: true }, damping: { kind: 'number', min: 0 }, seed: { kind: 'int', min: 0 },
    varianceDraws: { kind: 'int', min: 2 }, recordEvery: { kind: 'int', min: 1 },
  });
  const epochs = o.epochs ?? 256;
  const lr = o.lr ?? 0.01;
  const damping = o.damping ?? 1e-4;
  const seed = o.seed ?? 0;
  const draws = o.varianceDraws ?? 128;
  const every = o.recordEvery ?? 1;
  const name = o.task === 'regression' ? 'linear-gaussian' : 'logistic';
  const { train, test } = makeSyntheticSplit(name, { n: 256, nTest: 4096, seed, theta: [1, 1] });
  const lik = makeLikelihood(o.task === 'regression' ? 'gaussian' : 'bernoulli');
  const rng = new Rng(seed).derive(`toy-${o.task}-${o.estimator}`);
  const model = buildModel({ inputShape: [2], layers: [{ type: 'dense', in: 2, out: 1, bias: false }] }, null, 'float64');
  const w = model.parameters()[0]!;
  rng.derive('init').fillNormal(w.data);
  const curve: ToyCurve = { task: o.task, estimator: o.estimator, epochs: [], testLoss: [], varianceSum: [], theta: [], unstableSteps: 0 };
  const record = (epoch: number): void => {
    curve.epochs.push(epoch);
    curve.testLoss.push(meanNll(model, lik, test));
    curve.theta.push([w.data[0]!, w.data[1]!]);
    const vr = rng.derive(`variance-${epoch}`);
    const vals: Float64Array[] = [];
    for (let d = 0; d < draws; d++) {
      const pts = subset(train, Array.from({ length: 4 }, () => vr.int(train.length)));
      vals.push(computeFisher(model, lik, pts, { estimator: o.estimator, representation: 'dense', labelsPerInput: 1, seed: vr.nextU32() }).toDense());
    }
    let sum = 0;
    for (let k = 0; k < 4; k++) {
      const m = vals.reduce((s, v) => s + v[k]!, 0) / draws;
      sum += vals.reduce((s, v) => s + (v[k]! - m) ** 2, 0) / (draws - 1);
    }
    curve.varianceSum.push(sum);
  };
  record(0);
  const stepRng = rng.derive('steps');
  for (let e = 1; e <= epochs; e++) {
    const order = stepRng.permutation(train.length);
    for (let s = 0; s + 4 <= train.length; s += 4) {
      const pts = subset(train, Array.from(order.subarray(s, s + 4)));
      const x = new Tensor(Float64Array.from(pts.inputs), [4, 2]);
      const [g] = grad(lik.nll(model.forward(x), pts.targets), [w]);
      const F = computeFisher(model, lik, pts, { estimator: o.estimator, representation: 'dense', labelsPerInput: 1, seed: stepRng.nextU32() });
      let step: Float64Array;
      try {
        step = F.solve(Float64Array.from(g!.data), damping);
      } catch {
        curve.unstableSteps++;
        continue;
      }
      if (!step.every(Number.isFinite)) {
        curve.unstableSteps++;
        continue;
      }
      w.data[0]! -= lr * step[0]!;
      w.data[1]! -= lr * step[1]!;
    }
    if (e % every === 0 || e === epochs) record(e);
  }
  return curve;
}
