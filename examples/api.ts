import {
  Rng, Tensor, grad, hvp, jvp, buildModel, mlpSpec,
  makeLikelihood, resolveDataset, saveModel, getBackend,
} from 'fimkit';
// (examples/api.ts is this program; a test runs it.)

const rng = new Rng(0);                                   // seeded, splittable: rng.derive('init')
const model = buildModel(mlpSpec([784, 256, 10], 'tanh'), rng.derive('init'), 'float64');
const lik = makeLikelihood('categorical');                // also 'gaussian', 'bernoulli', 'poisson'

const { train } = await resolveDataset('embedded');      // Fashion-MNIST subset shipped with fimkit
const x = new Tensor(train.inputs.slice(0, 32 * 784), [32, 784]).toDType('float64');
const y = (train.targets as Int32Array).slice(0, 32);

const h = model.forward(x);                               // [32, 10] natural parameters (logits)
const loss = lik.nll(h, y);                               // mean negative log-likelihood
const grads = grad(loss, model.parameters());             // one Tensor per parameter ("0.weight", ...)

// Second order: Hessian-vector product of the loss, and a Jacobian-vector product of the network.
const vs = model.parameters().map((p) => Tensor.randn(p.shape, rng, 'float64'));
const hv = hvp(() => lik.nll(model.forward(x), y), model.parameters(), vs);
const { tangent } = jvp(() => model.forward(x), [x], [Tensor.randn(x.shape, rng, 'float64')]);

// Output-space quantities of the likelihood at the network output.
const cov = lik.covariance(h.data, 32, 10);               // Cov(t) = Fisher in output space, [B, T, T]
const S = lik.sqrtFactor(h.data, 32, 10);                 // S Sᵀ = Cov, C−1 columns for softmax
const ys = lik.sample(h.data, 32, 10, rng, 4);            // 4 labels per input, from the model

saveModel(process.argv[2] ?? 'model.json', model);
console.log(getBackend().name, grads.length, hv.length, tangent.shape.join('x'), cov.length, S.length, ys.length);
