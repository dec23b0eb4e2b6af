/**
 * @module The transfer-learning freeze rule (Keras layer indexing: `model.layers[i]` for i < n is frozen) and
 * the split of a network at that boundary into a frozen prefix (run once, natively) and a trainable suffix.
 */
import * as tf from '@tensorflow/tfjs';

type Layer = tf.layers.Layer;

/**
 * Keeps a BatchNormalization layer in inference mode whatever `training` says: a frozen BN must normalise
 * with its moving statistics (Keras ≥ 2.1 does the same for `trainable = False`), or fine-tuning would
 * wreck the pretrained features on the first small batch.
 */
function pinInferenceMode(layer: Layer): void {
  const marker = layer as Layer & { inferenceModePinned?: boolean };
  if (marker.inferenceModePinned) return;
  const call = layer.call.bind(layer);
  layer.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
  marker.inferenceModePinned = true;
}

/** Freezes `model.layers[0..n)` (weights, and BN statistics: frozen BN runs in inference mode) and leaves the rest trainable. */
export function freezeLayers(model: tf.LayersModel, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > model.layers.length) throw new RangeError(`--freeze must be an integer in [0, ${model.layers.length}], got ${n}`);
  model.layers.forEach((layer, i) => {
    layer.trainable = i >= n;
    if (i < n && layer.getClassName() === 'BatchNormalization') pinInferenceMode(layer);
  });
}

/**
 * Stage 2 unfreezes every layer, but the BatchNormalization layers that were frozen keep normalising with
 * their moving statistics (the Keras fine-tuning advice), so only their γ/β learn.
 */
export function unfreezeForFineTuning(model: tf.LayersModel, frozenBefore: number): void {
  model.layers.forEach((layer, i) => {
    layer.trainable = true;
    if (i < frozenBefore && layer.getClassName() === 'BatchNormalization') pinInferenceMode(layer);
  });
}

export interface FrozenSplit {
  /** The frozen layers' outputs that trainable layers read (the features the prefix must produce). */
  frontier: tf.SymbolicTensor[];
  /** input → frontier (frozen layers only). */
  prefix: tf.LayersModel;
  /** frontier → predictions (trainable layers only, sharing the full model's weights). */
  suffix: tf.LayersModel;
}

const producerIndex = (model: tf.LayersModel) => new Map(model.layers.map((l, i) => [l.name, i]));

/** Splits `model` at layer `n` (0 < n < layers): the frontier may hold several tensors (a shortcut crossing the cut). */
export function splitAtFrozenBoundary(model: tf.LayersModel, n: number): FrozenSplit {
  if (n <= 0 || n >= model.layers.length) throw new RangeError(`cannot split at layer ${n}`);
  const index = producerIndex(model);
  const frontier: tf.SymbolicTensor[] = [];
  const mapped = new Map<number, tf.SymbolicTensor>();
  const inputs: tf.SymbolicTensor[] = [];
  for (const layer of model.layers.slice(n)) {
    const node = layer.inboundNodes[0]!;
    const sources = node.inputTensors.map((t) => {
      const known = mapped.get(t.id);
      if (known) return known;
      const producer = t.sourceLayer.name;
      if (index.get(producer)! >= n) throw new Error(`layer ${layer.name} reads ${producer} before it is computed`);
      frontier.push(t);
      const input = tf.input({ shape: t.shape.slice(1) as number[], name: `${producer}_features` });
      inputs.push(input);
      mapped.set(t.id, input);
      return input;
    });
    const out = layer.apply(sources.length === 1 ? sources[0]! : sources) as tf.SymbolicTensor;
    node.outputTensors.forEach((t) => mapped.set(t.id, out));
  }
  const output = mapped.get(model.outputs[0]!.id);
  if (!output) throw new Error('the model output does not depend on the trainable layers');
  return {
    frontier,
    prefix: tf.model({ inputs: model.inputs, outputs: frontier, name: 'frozen_prefix' }),
    suffix: tf.model({ inputs, outputs: output, name: 'trainable_suffix' }),
  };
}
