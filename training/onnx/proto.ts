/** @module Small builders and readers over onnx-proto (protobufjs): tensors, nodes, attributes, models. */
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export const DataType = onnx.TensorProto.DataType;

/** The opset we emit: QuantizeLinear/DequantizeLinear per-axis need 13; common tools accept 13–17. */
export const OPSET = 13;
/** IR version 7 goes with opset 13. */
export const IR_VERSION = 7;

type TypedData = Float32Array | Int8Array | Uint8Array | Int32Array;

const dataTypeOf = (data: TypedData) =>
  data instanceof Float32Array ? DataType.FLOAT : data instanceof Int8Array ? DataType.INT8 : data instanceof Uint8Array ? DataType.UINT8 : DataType.INT32;

/** An initializer stored as little-endian raw bytes (what every ONNX runtime reads fastest). */
export function tensor(name: string, dims: number[], data: TypedData): TensorProto {
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== data.length) throw new RangeError(`tensor ${name}: dims ${JSON.stringify(dims)} hold ${size} values, got ${data.length}`);
  return { name, dims, dataType: dataTypeOf(data), rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** int64 tensors (shapes for Reshape) stored as raw little-endian. */
export function int64Tensor(name: string, values: number[]): TensorProto {
  const raw = new BigInt64Array(values.map((v) => BigInt(v)));
  return { name, dims: [values.length], dataType: DataType.INT64, rawData: new Uint8Array(raw.buffer) };
}

export type AttributeValue = number | number[] | string | { float: number };

function attribute(name: string, value: AttributeValue): onnxProto.onnx.IAttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'object' && !Array.isArray(value)) return { name, type: A.FLOAT, f: value.float };
  if (Array.isArray(value)) return { name, type: A.INTS, ints: value };
  return { name, type: A.INT, i: value };
}

export function node(opType: string, inputs: string[], outputs: string[], name: string, attrs: Record<string, AttributeValue> = {}): NodeProto {
  return { opType, input: inputs, output: outputs, name, attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) };
}

/** A float32 value info; `null` dims are symbolic (e.g. a dynamic batch). */
export function valueInfo(name: string, dims: Array<number | string>, elemType = DataType.FLOAT): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

export function model(graph: GraphProto, docString = ''): ModelProto {
  return onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'edge-resnet',
    producerVersion: '0.1.0',
    docString,
    opsetImport: [{ domain: '', version: OPSET }],
    graph,
  });
}

export const encodeModel = (m: ModelProto): Uint8Array => onnx.ModelProto.encode(m).finish();
export const decodeModel = (bytes: Uint8Array): ModelProto => onnx.ModelProto.decode(bytes);

/** Reads an initializer's values as float32 (raw or typed fields; FLOAT only). */
export function readFloats(t: TensorProto): Float32Array {
  if (t.dataType !== DataType.FLOAT) throw new TypeError(`initializer ${t.name} is type ${t.dataType}, expected FLOAT`);
  if (t.rawData && t.rawData.length > 0) {
    const copy = new Uint8Array(t.rawData); // aligned copy
    return new Float32Array(copy.buffer, 0, copy.length / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

export function readInt64s(t: TensorProto): number[] {
  if (t.rawData && t.rawData.length > 0) {
    const copy = new Uint8Array(t.rawData);
    return Array.from(new BigInt64Array(copy.buffer, 0, copy.length / 8), Number);
  }
  return (t.int64Data ?? []).map(Number);
}

/** Attribute lookup by name, as a plain value. */
export function getAttr(n: NodeProto, name: string): number | number[] | string | undefined {
  const a = n.attribute?.find((x) => x.name === name);
  if (!a) return undefined;
  const A = onnx.AttributeProto.AttributeType;
  if (a.type === A.INT) return Number(a.i);
  if (a.type === A.FLOAT) return a.f ?? 0;
  if (a.type === A.INTS) return (a.ints ?? []).map(Number);
  if (a.type === A.STRING) return new TextDecoder().decode(a.s ?? new Uint8Array());
  return undefined;
}
