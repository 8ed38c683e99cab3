import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../src/core/tensor.js';
import { Rng } from '../src/core/rng.js';
import { withBackend } from '../src/core/backends/index.js';
import * as F from '../src/autodiff/ops.js';
import { grad, hvp, jvp, backward } from '../src/autodiff/grad.js';
import { numericalGradient, numericalDirectional, maxRelativeError } from '../src/autodiff/check.js';
import { unaryScalar } from '../src/core/scalar.js';
import { Unary, type UnaryName } from '../src/core/backend.js';
import { BACKENDS } from './helpers.js';

const TOL = 1e-6; // the bound for float64 gradient checks

/** `distinct`: values are a shuffled grid spaced 0.05 apart, so a max never changes winner
 *  under the finite-difference step (max pooling is only differentiable away from ties). */
type Init = { shape: number[]; lo?: number; hi?: number; awayFromZero?: number; distinct?: boolean };

function makeInputs(rng: Rng, inits: Init[]): Tensor[] {
  return inits.map(({ shape, lo = -1.5, hi = 1.5, awayFromZero = 0, distinct = false }) => {
    const t = Tensor.uniform(shape, rng, lo, hi, 'float64');
    if (distinct) rng.permutation(t.size).forEach((p, i) => (t.data[i] = -1 + 0.05 * p));
    if (awayFromZero > 0) for (let i = 0; i < t.size; i++) if (Math.abs(t.data[i]!) < awayFromZero) t.data[i] = awayFromZero * (t.data[i]! < 0 ? -1 : 1) * (1 + rng.uniform());
    t.requiresGrad = true;
    return t;
  });
}

/** Checks d/dxs of sum(op(xs) ⊙ R) against central differences, R a fixed random projection. */
function checkGradient(label: string, op: (xs: Tensor[]) => Tensor, inits: Init[], seed = 1): void {
  const rng = new Rng(seed);
  const xs = makeInputs(rng, inits);
  const y0 = op(xs);
  const R = Tensor.uniform(y0.shape, rng, -1, 1, 'float64');
  const loss = (): Tensor => F.sum(F.mul(op(xs), R));
  const gs = grad(loss(), xs);
  xs.forEach((x, i) => {
    const num = numericalGradient(() => loss().item(), x.data);
    const err = maxRelativeError(gs[i]!.data, num, 1e-7);
    assert.ok(err < TOL, `${label}: input ${i} relative error ${err.toExponential(2)} ≥ ${TOL}`);
  });
}

const SMOOTH: UnaryName[] = ['sigmoid', 'tanh', 'softplus', 'logSigmoid', 'gelu', 'exp', 'square'];

for (const backend of BACKENDS) {
  test(`[${backend}] first-order gradients of every op match central differences (float64)`, () => {
    withBackend(backend, () => {
      checkGradient('add broadcast', ([a, b]) => F.add(a!, b!), [{ shape: [3, 4] }, { shape: [4] }]);
      checkGradient('add broadcast both', ([a, b]) => F.add(a!, b!), [{ shape: [3, 1] }, { shape: [1, 4] }]);
      checkGradient('sub', ([a, b]) => F.sub(a!, b!), [{ shape: [2, 3] }, { shape: [2, 3] }]);
      checkGradient('mul broadcast', ([a, b]) => F.mul(a!, b!), [{ shape: [2, 3, 4] }, { shape: [3, 1] }]);
      checkGradient('div', ([a, b]) => F.div(a!, b!), [{ shape: [5] }, { shape: [5], awayFromZero: 0.5 }]);
      checkGradient('affine', ([a]) => F.affine(a!, -2.5, 0.3), [{ shape: [4] }]);
      checkGradient('axpby', ([a, b]) => F.axpby(0.7, a!, -1.3, b!), [{ shape: [4] }, { shape: [4] }]);
      for (const name of [...SMOOTH, 'relu', 'leakyRelu', 'abs'] as UnaryName[]) {
        checkGradient(name, ([a]) => F.activation(name, a!, 0.1), [{ shape: [3, 5], awayFromZero: 0.05 }]);
      }
      checkGradient('log', ([a]) => F.log(a!), [{ shape: [6], lo: 0.2, hi: 3 }]);
      checkGradient('sqrt', ([a]) => F.sqrt(a!), [{ shape: [6], lo: 0.2, hi: 3 }]);
      checkGradient('reciprocal', ([a]) => F.reciprocal(a!), [{ shape: [6], lo: 0.3, hi: 3 }]);
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        checkGradient(`matmul ${ta} ${tb}`, ([a, b]) => F.matmul(a!, b!, ta, tb), [{ shape: ta ? [4, 3] : [3, 4] }, { shape: tb ? [5, 4] : [4, 5] }]);
      }
      checkGradient('linear', ([x, w, b]) => F.linear(x!, w!, b!), [{ shape: [3, 4] }, { shape: [5, 4] }, { shape: [5] }]);
      checkGradient('linear no bias', ([x, w]) => F.linear(x!, w!, null), [{ shape: [3, 4] }, { shape: [2, 4] }]);
      checkGradient('sum', ([a]) => F.sum(a!), [{ shape: [3, 4] }]);
      checkGradient('mean', ([a]) => F.mean(a!), [{ shape: [3, 4] }]);
      checkGradient('sumAxis 0', ([a]) => F.sumAxis(a!, 0), [{ shape: [3, 4] }]);
      checkGradient('sumAxis -1', ([a]) => F.sumAxis(a!, -1), [{ shape: [3, 4] }]);
      checkGradient('sumAxis middle', ([a]) => F.sumAxis(a!, 1, true), [{ shape: [2, 3, 4] }]);
      checkGradient('meanAxis', ([a]) => F.meanAxis(a!, 1), [{ shape: [2, 3, 4] }]);
      checkGradient('logSumExp', ([a]) => F.logSumExp(a!), [{ shape: [3, 5], lo: -4, hi: 4 }]);
      checkGradient('softmax', ([a]) => F.softmax(a!), [{ shape: [3, 5], lo: -4, hi: 4 }]);
      checkGradient('logSoftmax', ([a]) => F.logSoftmax(a!), [{ shape: [3, 5], lo: -4, hi: 4 }]);
      checkGradient('pick', ([a]) => F.pick(a!, Int32Array.from([2, 0, 4])), [{ shape: [3, 5] }]);
      checkGradient('permute', ([a]) => F.permute(a!, [2, 0, 1]), [{ shape: [2, 3, 4] }]);
      checkGradient('transpose', ([a]) => F.transpose(a!), [{ shape: [2, 3] }]);
      checkGradient('broadcastTo', ([a]) => F.broadcastTo(a!, [2, 3, 4]), [{ shape: [3, 1] }]);
      checkGradient('concat', ([a, b]) => F.concat([a!, b!], 1), [{ shape: [2, 3] }, { shape: [2, 2] }]);
      checkGradient('slice', ([a]) => F.slice(a!, 1, 1, 3), [{ shape: [2, 4, 2] }]);
      checkGradient('conv2d stride 2 pad 1', ([x, w, b]) => F.conv2d(x!, w!, b!, { stride: 2, padding: 1 }), [{ shape: [2, 2, 5, 5] }, { shape: [3, 2, 3, 3] }, { shape: [3] }]);
      checkGradient('conv2d 1x1', ([x, w]) => F.conv2d(x!, w!, null), [{ shape: [1, 3, 2, 2] }, { shape: [2, 3, 1, 1] }]);
      checkGradient('maxPool2d', ([x]) => F.maxPool2d(x!, 2), [{ shape: [2, 2, 4, 4], distinct: true }]);
      checkGradient('maxPool2d stride 1 pad 1', ([x]) => F.maxPool2d(x!, 3, { stride: 1, padding: 1 }), [{ shape: [1, 1, 4, 4], distinct: true }]);
      checkGradient('avgPool2d pad', ([x]) => F.avgPool2d(x!, 2, { padding: 1 }), [{ shape: [1, 2, 3, 3] }]);
      checkGradient('dropout', ([x]) => F.dropout(x!, 0.5, new Rng(7)), [{ shape: [4, 4] }]);
    });
  });

  test(`[${backend}] second order: Hessian–vector products, jvp and third derivatives match finite differences`, () => {
    withBackend(backend, () => {
      const rng = new Rng(3);
      const x = Tensor.uniform([4, 3], rng, -1, 1, 'float64');
      const w1 = Tensor.uniform([5, 3], rng, -1, 1, 'float64');
      const b1 = Tensor.uniform([5], rng, -1, 1, 'float64');
      const w2 = Tensor.uniform([4, 5], rng, -1, 1, 'float64');
      const labels = Int32Array.from([0, 3, 1, 2]);
      for (const act of ['sigmoid', 'tanh', 'softplus', 'gelu', 'logSigmoid'] as UnaryName[]) {
        const f = (xx: Tensor, a: Tensor, b: Tensor, c: Tensor): Tensor => {
          const h = F.linear(F.activation(act, F.linear(xx, a, b)), c, null);
          return F.mean(F.sub(F.logSumExp(h), F.pick(h, labels)));
        };
        const params = [x, w1, b1, w2];
        const vs = params.map((p) => Tensor.uniform(p.shape, rng, -1, 1, 'float64'));
        const hv = hvp(() => f(x, w1, b1, w2), params, vs);
        const gradAt = (): Float64Array => {
          const leaves = params.map((p) => new Tensor(p.data, p.shape, true));
          const gs = grad(f(...(leaves as [Tensor, Tensor, Tensor, Tensor])), leaves);
          return Float64Array.from(gs.flatMap((g) => Array.from(g.data)));
        };
        const num = numericalDirectional(gradAt, params.map((p) => p.data), vs.map((v) => v.data));
        const got = Float64Array.from(hv.flatMap((g) => Array.from(g.data)));
        const err = maxRelativeError(got, num, 1e-6);
        assert.ok(err < TOL, `hvp through ${act}: relative error ${err.toExponential(2)}`);

        // Forward mode: J·v of the network output.
        const net = (xx: Tensor, a: Tensor, b: Tensor, c: Tensor): Tensor => F.linear(F.activation(act, F.linear(xx, a, b)), c, null);
        const { tangent } = jvp(() => net(x, w1, b1, w2), params, vs);
        const numJ = numericalDirectional(() => net(...(params as [Tensor, Tensor, Tensor, Tensor])).data, params.map((p) => p.data), vs.map((v) => v.data));
        const errJ = maxRelativeError(tangent.data, numJ, 1e-6);
        assert.ok(errJ < TOL, `jvp through ${act}: relative error ${errJ.toExponential(2)}`);
      }

      // Third derivatives by nested double-backward, against the closed forms.
      for (const name of ['sigmoid', 'tanh', 'gelu', 'softplus', 'logSigmoid'] as UnaryName[]) {
        const z = Tensor.uniform([7], rng, -2, 2, 'float64');
        z.requiresGrad = true;
        const [g1] = grad(F.sum(F.activation(name, z)), [z], { createGraph: true });
        const [g2] = grad(F.sum(g1!), [z], { createGraph: true });
        const [g3] = grad(F.sum(g2!), [z]);
        const want = Array.from(z.data, (v) => unaryScalar(Unary[name], 3, 0, v));
        const err = maxRelativeError(g3!.data, want, 1e-8);
        assert.ok(err < 1e-10, `${name}''' relative error ${err.toExponential(2)}`);
        const fd = Array.from(z.data, (v) => (unaryScalar(Unary[name], 2, 0, v + 1e-5) - unaryScalar(Unary[name], 2, 0, v - 1e-5)) / 2e-5);
        assert.ok(maxRelativeError(want, fd, 1e-6) < TOL, `${name} closed-form third derivative vs finite differences`);
      }
    });
  });
}

test('backward accumulates into leaf .grad and float32 gradients stay close to float64', () => {
  const rng = new Rng(11);
  const w = Tensor.uniform([3, 2], rng, -1, 1, 'float64');
  w.requiresGrad = true;
  const x = Tensor.uniform([4, 2], rng, -1, 1, 'float64');
  const loss = F.sum(F.tanh(F.linear(x, w, null)));
  backward(loss);
  const first = Float64Array.from(w.grad!.data);
  backward(F.sum(F.tanh(F.linear(x, w, null))));
  assert.ok(maxRelativeError(w.grad!.data, first.map((v) => 2 * v)) < 1e-14, 'second backward doubles .grad');
  const w32 = w.toDType('float32');
  w32.requiresGrad = true;
  const [g32] = grad(F.sum(F.tanh(F.linear(x.toDType('float32'), w32, null))), [w32]);
  assert.equal(g32!.dtype, 'float32');
  assert.ok(maxRelativeError(g32!.data, first, 1e-3) < 1e-5);
});

test('ops reject mismatched shapes and dtypes with clear errors', () => {
  const a = Tensor.zeros([2, 3], 'float64');
  const b = Tensor.zeros([4, 5], 'float64');
  assert.throws(() => F.add(a, b), /do not broadcast/);
  assert.throws(() => F.matmul(a, b), /inner dimensions/);
  assert.throws(() => F.add(a, Tensor.zeros([2, 3], 'float32')), /mixed dtypes/);
  assert.throws(() => F.pick(a, Int32Array.from([0, 3])), /label 3 at row 1/);
  assert.throws(() => F.linear(a, Tensor.zeros([4, 2], 'float64'), null), /does not fit weight/);
});

test('max pooling: values and winners against a brute-force scan of each window (stride, padding, ties, NaN)', () => {
  const rng = new Rng(11);
  for (const [shape, k, stride, padding] of [
    [[2, 3, 6, 6], 2, 2, 0], [[1, 2, 5, 4], 3, 1, 1], [[1, 1, 7, 5], 3, 2, 1], [[2, 1, 4, 4], 2, 3, 0],
  ] as [number[], number, number, number][]) {
    const x = Tensor.uniform(shape, rng, -1, 1, 'float64');
    // Ties (a repeated value) and a NaN in the data: the first maximal cell wins, as in a scan.
    x.data[3] = x.data[1]!;
    x.data[5] = NaN;
    const g = F.convGeometry(x.shape, k, k, { stride, padding });
    const arg = F.poolArgmax(x.data, g);
    const y = F.maxPool2d(x, k, { stride, padding });
    const [N, C, H, W] = shape as [number, number, number, number];
    let o = 0;
    for (let nc = 0; nc < N * C; nc++) for (let oh = 0; oh < g.outH; oh++) for (let ow = 0; ow < g.outW; ow++, o++) {
      let best = -1;
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
        const ih = oh * stride - padding + i, iw = ow * stride - padding + j;
        if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
        const idx = (nc * H + ih) * W + iw;
        if (best < 0 || x.data[idx]! > x.data[best]!) best = idx;
      }
      assert.equal(arg[o], best, `window ${o} of ${shape} k=${k} s=${stride} p=${padding}`);
      assert.ok(Object.is(y.data[o], x.data[best]), `value ${o}`);
    }
    // The window table is built once per geometry and shared.
    assert.equal(F.poolWindows(g), F.poolWindows({ ...g }));
  }
});

test('permute: every permutation of 1–4 axes against the index definition (batched-transpose fast path and the general one)', () => {
  const perms = (n: number): number[][] => (n === 0 ? [[]] : perms(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)])));
  const rng = new Rng(5);
  for (const shape of [[7], [3, 40], [2, 3, 4], [2, 33, 5, 3]]) {
    const x = Tensor.uniform(shape, rng, -1, 1, 'float64');
    const strides = shape.map((_, d) => shape.slice(d + 1).reduce((p, v) => p * v, 1));
    for (const axes of perms(shape.length)) {
      const y = F.permute(x, axes);
      assert.deepEqual(y.shape, axes.map((a) => shape[a]));
      const outStrides = y.shape.map((_, d) => y.shape.slice(d + 1).reduce((p, v) => p * v, 1));
      for (let o = 0; o < y.size; o++) {
        let src = 0;
        for (let d = 0; d < axes.length; d++) src += (Math.floor(o / outStrides[d]!) % y.shape[d]!) * strides[axes[d]!]!;
        if (y.data[o] !== x.data[src]) assert.fail(`permute ${axes} of ${shape}: element ${o}`);
      }
    }
  }
});
