/**
 * A2C (synchronous advantage actor-critic, "Asynchronous Methods for Deep Reinforcement
 * Learning"): one gradient step per rollout. The actor ascends g = ∇ mean(log π · Â) (+ entropy
 * bonus) with Adam; the critic regresses on the GAE returns with its own Adam. (Stable-Baselines3
 * uses one RMSprop over a shared loss; with separate actor and critic networks the two
 * optimisers here are the same update split in two.)
 */
import type { Rng } from '../../core/rng.js';
import { Adam } from '../../optim/adam.js';
import { tensorsLike, type ActorCritic } from '../policy.js';
import type { AlgoName, RlHyper } from './config.js';
import { allIndices, clipGlobalNorm, fitCritic, normalized, policyGradient, scheduleFactor, type Algorithm, type AlgoState, type Batch, type UpdateStats } from './common.js';

export class A2C implements Algorithm {
  readonly name: AlgoName = 'a2c';
  private readonly actorOpt: Adam;
  private readonly criticOpt: Adam;
  private updates = 0;
  private factor = 1;

  constructor(private readonly policy: ActorCritic, private readonly h: RlHyper) {
    this.actorOpt = new Adam({ lr: h.actorLr, eps: 1e-5 });
    this.criticOpt = new Adam({ lr: h.criticLr, eps: 1e-5 });
  }

  setProgress(fraction: number): void {
    this.factor = scheduleFactor(this.h.lrSchedule, fraction);
  }

  update(batch: Batch, rng: Rng): UpdateStats {
    const t0 = performance.now();
    const h = this.h;
    const idx = allIndices(batch.size);
    const adv = h.normalizeAdvantage ? normalized(batch.advantages) : batch.advantages;
    const { g, entropy } = policyGradient(this.policy, batch, idx, adv, h.entCoef);
    const gradNorm = clipGlobalNorm([g], h.maxGradNorm);
    const params = this.policy.actorParams();
    const before = this.policy.getFlat();
    // Adam descends: hand it −g.
    for (let i = 0; i < g.length; i++) g[i] = -g[i]!;
    this.actorOpt.lr = h.actorLr * this.factor;
    this.actorOpt.step(params, tensorsLike(params, g));
    const after = this.policy.getFlat();
    let s = 0;
    for (let i = 0; i < after.length; i++) s += (after[i]! - before[i]!) ** 2;
    this.criticOpt.lr = h.criticLr * this.factor;
    const valueLoss = fitCritic(this.policy, this.criticOpt, batch, h.criticEpochs, h.criticMinibatches, h.maxGradNorm, rng);
    this.updates++;
    return { valueLoss, entropy, kl: NaN, gradNorm, stepNorm: Math.sqrt(s), seconds: (performance.now() - t0) / 1000 };
  }

  state(): AlgoState {
    return { name: this.name, updates: this.updates, optimizers: { actor: this.actorOpt.state(), critic: this.criticOpt.state() } };
  }

  loadState(s: AlgoState): void {
    this.actorOpt.loadState(s.optimizers.actor!);
    this.criticOpt.loadState(s.optimizers.critic!);
    this.updates = s.updates;
  }
}
