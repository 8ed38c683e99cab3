/**
 * The ODE models' arithmetic (src/ode/model.ts `Arith`) over autodiff Tensors, so one written
 * right-hand side is evaluated on network outputs and trainable parameters and differentiated by
 * fimkit's reverse mode. States are column tensors [N, 1] (one value per collocation time),
 * parameters are scalars [] and constants are scalars of the working dtype: the element-wise ops
 * broadcast them against the columns.
 */
import type { DType } from '../core/dtype.js';
import { Tensor } from '../core/tensor.js';
import * as F from '../autodiff/ops.js';
import type { Arith } from '../ode/model.js';

export function tensorArith(dtype: DType = 'float64'): Arith<Tensor> {
  return {
    const: (c) => Tensor.scalar(c, dtype),
    add: F.add,
    sub: F.sub,
    mul: F.mul,
    div: F.div,
    neg: F.neg,
    powc: (a, p) => {
      if (p === 1) return a;
      if (p === 2) return F.square(a);
      if (p === 0) return F.add(F.scale(a, 0), Tensor.scalar(1, dtype));
      if (Number.isInteger(p) && Math.abs(p) <= 8) {
        let r = a;
        for (let i = 1; i < Math.abs(p); i++) r = F.mul(r, a);
        return p < 0 ? F.reciprocal(r) : r;
      }
      // Non-integer exponents need a > 0 (as the contract states): a^p = exp(p·log a).
      return F.exp(F.scale(F.log(a), p));
    },
    exp: F.exp,
    log: F.log,
  };
}
