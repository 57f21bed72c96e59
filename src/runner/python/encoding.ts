/**
 * The wire format of the Python runner's JSON-RPC messages: float64 arrays as
 * base64 of their little-endian bytes (exact, and a third of the size of
 * decimal text), index lists as base64 of little-endian int32.
 */

export function encodeFloats(values: ArrayLike<number>): string {
  const array = values instanceof Float64Array ? values : Float64Array.from(values);
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
}

export function decodeFloats(text: string): Float64Array {
  const bytes = Buffer.from(text, 'base64');
  const out = new Float64Array(bytes.length / 8);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export function encodeIndices(indices: Int32Array): string {
  return Buffer.from(indices.buffer, indices.byteOffset, indices.byteLength).toString('base64');
}
