/**
 * @module Grad-CAM (Selvaraju et al., 2017): where in the image a class's evidence lies, from the float model.
 * For a conv layer's output A (k maps) and the class's logit y (the `predictions` Dense before its softmax):
 * αₖ = mean over positions of ∂y/∂Aₖ, map = ReLU(Σₖ αₖ·Aₖ), scaled to [0, 1]. The network is cut at the layer:
 * `head` computes A from the input, `tail` re-applies the layers after the cut (sharing their weights) from a new
 * input, so the gradient is taken with respect to A itself. The layer must be a cut point (everything after it
 * depends on it alone: a ResNet stage or block output is).
 */
import { tf } from '../tf/backend.js';

/** ResNet50's last conv block: the paper's choice, and ours when its map has room to show a place. */
export const LAST_CONV_BLOCK = 'conv5_block3_out';
/** Each stage's last block output, from the last stage back (conv5_block3_out, conv4_block6_out, … for ResNet50). */
export function stageOutputs(model: tf.LayersModel): string[] {
  const names = model.layers.map((l) => l.name);
  return ['conv5', 'conv4', 'conv3', 'conv2'].map((stage) => names.filter((n) => new RegExp(`^${stage}_block\\d+_out$`).test(n)).at(-1)!).filter(Boolean);
}

export interface GradCam {
  layer: string;
  classIndex: number;
  /** The model's probabilities for the image. */
  probabilities: Float32Array;
  /** Heat per feature-map position, row-major, in [0, 1] (all 0 when no position has positive evidence). */
  map: Float32Array;
  width: number;
  height: number;
}

export interface CamModel {
  head: tf.LayersModel;
  tail: tf.LayersModel;
  /** `predictions`' kernel and bias: logits = tail(A)·W + b. */
  kernel: tf.Tensor2D;
  bias: tf.Tensor1D;
  layer: string;
}

/** Splits `model` at `layer`'s output; the last layer must be the Dense `predictions` (softmax or linear). */
export function cutAt(model: tf.LayersModel, layer: string): CamModel {
  // Node 0 is the model's own graph (every cut adds a node to the layers it re-applies).
  const cut = model.getLayer(layer).getOutputAt(0) as tf.SymbolicTensor;
  const predictions = model.getLayer('predictions');
  const [kernel, bias] = predictions.getWeights() as [tf.Tensor2D, tf.Tensor1D];
  const head = tf.model({ inputs: model.inputs, outputs: cut });
  const input = tf.input({ shape: cut.shape.slice(1) as number[], name: `${layer}_cam_input` });
  const mapped = new Map<number, tf.SymbolicTensor>([[cut.id, input]]);
  const afterCut = model.layers.slice(model.layers.indexOf(model.getLayer(layer)) + 1);
  for (const l of afterCut) {
    if (l === predictions) break;
    const node = l.inboundNodes[0]!;
    const inputs = node.inputTensors.map((t) => mapped.get(t.id));
    if (inputs.some((t) => t === undefined)) throw new Error(`${layer} is not a cut point: ${l.name} also takes a tensor from before it`);
    const out = l.apply(inputs.length === 1 ? inputs[0]! : (inputs as tf.SymbolicTensor[])) as tf.SymbolicTensor;
    mapped.set(node.outputTensors[0]!.id, out);
  }
  const before = predictions.inboundNodes[0]!.inputTensors[0]!;
  const z = mapped.get(before.id);
  if (!z) throw new Error(`cannot reach "predictions" from ${layer}`);
  return { head, tail: tf.model({ inputs: input, outputs: z }), kernel, bias, layer };
}

/**
 * Grad-CAM of one image (NHWC [1, H, W, 3] float input, as the model takes it) for `classIndex`, or for the
 * predicted class when it is undefined.
 */
export function gradCam(cam: CamModel, input: tf.Tensor4D, classIndex?: number): GradCam {
  return tf.tidy(() => {
    const a = cam.head.predict(input) as tf.Tensor4D;
    const logitsOf = (features: tf.Tensor4D) => tf.add(tf.matMul(cam.tail.apply(features, { training: false }) as tf.Tensor2D, cam.kernel), cam.bias) as tf.Tensor2D;
    const probabilities = tf.softmax(logitsOf(a)).dataSync() as Float32Array;
    const target = classIndex ?? probabilities.indexOf(Math.max(...probabilities));
    const grads = tf.grad((f: tf.Tensor) => tf.sum(tf.slice(logitsOf(f as tf.Tensor4D), [0, target], [1, 1])))(a);
    const alpha = tf.mean(grads, [1, 2]); // [1, k]
    const weighted = tf.relu(tf.sum(tf.mul(a, tf.reshape(alpha, [1, 1, 1, -1])), 3)); // [1, h, w]
    const max = tf.max(weighted).dataSync()[0]!;
    const map = (max > 0 ? tf.div(weighted, max) : weighted).dataSync() as Float32Array;
    return { layer: cam.layer, classIndex: target, probabilities: Float32Array.from(probabilities), map: Float32Array.from(map), width: a.shape[2], height: a.shape[1] };
  });
}

/** The layer to explain a model with `inputSize` pixels by: the last block output whose map is at least `minSide` wide. */
export function defaultCamLayer(model: tf.LayersModel, minSide = 4): string {
  const outputs = stageOutputs(model);
  for (const name of outputs) {
    const shape = (model.getLayer(name).getOutputAt(0) as tf.SymbolicTensor).shape;
    if ((shape[1] ?? 0) >= minSide) return name;
  }
  return outputs.at(-1)!;
}

/** Bilinear upsampling of a map to width × height (half-pixel centres), for overlays and masks. */
export function resizeMap(map: Float32Array, width: number, height: number, toWidth: number, toHeight: number): Float32Array {
  return tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(map, [1, height, width, 1]), [toHeight, toWidth], false, true).dataSync() as Float32Array);
}

/** A [3, H, W] planar tensor (the preprocessing's output) as the NHWC batch of one the tfjs model takes. */
export const toNhwc = (planar: Float32Array, height: number, width: number) => tf.tidy(() => tf.transpose(tf.tensor4d(planar, [1, 3, height, width]), [0, 2, 3, 1]) as tf.Tensor4D);
