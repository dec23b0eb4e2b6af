/**
 * @module Adam on WebGPU in three dispatches per variable: the new first moment, the new second moment and the
 * new weights, each one pass over the variable reading (w, g, m, v). tf.train.adam runs ~13 element-wise
 * kernels per variable, each with its own buffer (~2,800 dispatches a ResNet50 step); a dispatch costs a bind
 * group and a uniform buffer whatever its size, so on a GPU the update is dispatch-bound. Same rule, defaults
 * and state as tf.train.adam (its `${name}/m` and `${name}/v` slots in getWeights, so checkpoints are the same
 * files), and the same arithmetic order: m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), w − lr·m̂/(√v̂ + ε).
 */
import * as tf from '@tensorflow/tfjs';
import { flatLayout, type Uniform, type WebGPUBackend, type WebGPUProgram } from './programs.js';

type Output = 'm' | 'v' | 'w';
/** tfjs' { name, tensor } pair (tfjs-core's NamedTensor, which the union package does not re-export). */
type NamedTensor = { name: string; tensor: tf.Tensor };

/** Each program binds only what it reads (a pipeline's 'auto' layout drops unused bindings). */
const INPUTS: Record<Output, Array<'w' | 'g' | 'm' | 'v'>> = { m: ['g', 'm'], v: ['g', 'v'], w: ['w', 'g', 'm', 'v'] };

function adamProgram(shape: number[], output: Output): WebGPUProgram {
  const newM = 'uniforms.beta1 * m[index] + (1.0 - uniforms.beta1) * grad';
  const newV = 'uniforms.beta2 * v[index] + (1.0 - uniforms.beta2) * grad * grad';
  const value = {
    m: newM,
    v: newV,
    w: `w[index] - uniforms.learningRate * (((${newM}) / uniforms.correction1) / (sqrt((${newV}) / uniforms.correction2) + uniforms.epsilon))`,
  }[output];
  return {
    ...flatLayout(shape),
    variableNames: INPUTS[output],
    uniforms: 'beta1 : f32, beta2 : f32, correction1 : f32, correction2 : f32, learningRate : f32, epsilon : f32,',
    shaderKey: `edgeResnetAdam_${output}`,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let grad = g[index];
          result[index] = ${value};
        }
      }`,
  };
}

interface Slot {
  originalName: string;
  variable: tf.Variable;
}

export class WebGpuAdamOptimizer extends tf.Optimizer {
  /** The class name tf.train.adam serialises under: a saved configuration loads as plain Adam anywhere. */
  static get className(): string {
    return 'Adam';
  }

  private readonly firstMoments: Slot[] = [];
  private readonly secondMoments: Slot[] = [];

  constructor(
    protected learningRate: number,
    protected beta1 = 0.9,
    protected beta2 = 0.999,
    protected epsilon = 1e-7,
  ) {
    super();
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    if (tf.getBackend() !== 'webgpu') throw new Error(`WebGpuAdamOptimizer runs on the webgpu backend, not ${tf.getBackend()}`);
    const backend = tf.backend() as unknown as WebGPUBackend;
    const t = this.iterations + 1;
    // tf.train.adam keeps βᵗ as float32 tensors multiplied once a step; the same powers, rounded once here.
    const uniforms: Uniform[] = [this.beta1, this.beta2, 1 - Math.fround(this.beta1 ** t), 1 - Math.fround(this.beta2 ** t), this.learningRate, this.epsilon].map((x) => ({ type: 'float32', data: [x] }));
    names.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name]!;
      const slot = (slots: Slot[], suffix: string) => (slots[i] ??= { originalName: `${name}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) }).variable;
      const m = slot(this.firstMoments, 'm');
      const v = slot(this.secondMoments, 'v');
      const gradient = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
      if (gradient == null) return;
      const tensors = { w: value, g: gradient, m, v };
      const run = (output: Output) => tf.engine().makeTensorFromTensorInfo(backend.runWebGPUProgram(adamProgram(value.shape, output), INPUTS[output].map((k) => tensors[k]), 'float32', uniforms));
      // All three read the old (w, m, v): run them before any assignment.
      const [newM, newV, newW] = [run('m'), run('v'), run('w')];
      m.assign(newM);
      v.assign(newV);
      value.assign(newW);
      tf.dispose([newM, newV, newW]);
    });
    this.incrementIterations();
  }

  override dispose(): void {
    tf.dispose([...this.firstMoments, ...this.secondMoments].map((s) => s.variable));
  }

  override async getWeights(): Promise<NamedTensor[]> {
    return [await this.saveIterations(), ...[...this.firstMoments, ...this.secondMoments].map((s) => ({ name: s.originalName, tensor: s.variable }))];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const values = await this.extractIterations(weightValues);
    const half = values.length / 2;
    const toSlot = (w: NamedTensor): Slot => ({ originalName: w.name, variable: w.tensor.variable(false) });
    this.firstMoments.splice(0, Infinity, ...values.slice(0, half).map(toSlot));
    this.secondMoments.splice(0, Infinity, ...values.slice(half).map(toSlot));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}
