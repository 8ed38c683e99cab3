// The model registry: the three candidate tumour–immune models by name.
import type { OdeModel } from '../model.js';
import { OdeModelError } from '../errors.js';
import { kuznetsov } from './kuznetsov.js';
import { kirschnerPanetta } from './kirschner-panetta.js';
import { dePillis } from './depillis.js';

export { kuznetsov, kirschnerPanetta, dePillis };

export const ODE_MODELS: Readonly<Record<string, OdeModel>> = {
  kuznetsov,
  'kirschner-panetta': kirschnerPanetta,
  depillis: dePillis,
};

export const ODE_MODEL_NAMES = Object.keys(ODE_MODELS);

export function getOdeModel(name: string): OdeModel {
  const m = ODE_MODELS[name];
  if (!m) throw new OdeModelError(`unknown ODE model '${name}' (known: ${ODE_MODEL_NAMES.join(', ')})`);
  return m;
}
