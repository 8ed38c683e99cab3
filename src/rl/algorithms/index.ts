/** The algorithm factory: one name → one Algorithm over a policy and a hyperparameter record. */
import type { ActorCritic } from '../policy.js';
import { A2C } from './a2c.js';
import { checkAlgoName, validateHyper, type RlHyper } from './config.js';
import type { Algorithm } from './common.js';
import { NaturalActorCritic } from './natural.js';
import { PPO } from './ppo.js';

export * from './config.js';
export * from './common.js';
export { A2C } from './a2c.js';
export { PPO } from './ppo.js';
export { NaturalActorCritic } from './natural.js';

export function makeAlgorithm(name: string, policy: ActorCritic, h: RlHyper): Algorithm {
  const algo = checkAlgoName(name);
  validateHyper(h);
  switch (algo) {
    case 'a2c':
      return new A2C(policy, h);
    case 'ppo':
      return new PPO(policy, h);
    default:
      return new NaturalActorCritic(algo, policy, h);
  }
}
