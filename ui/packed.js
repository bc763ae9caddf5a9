// Reading a viz.encoding.pack message, for the components that are sent one (the map view and the
// curve view); ui.components puts this before a packed component's own JavaScript.
//
// The message: the header's length (uint32, little-endian), the header (the payload as JSON, each
// array replaced by {"$array": dtype, offset, length}), then the arrays' part, each array from a
// multiple of 8 bytes. Each array becomes a typed array over the message's bytes: nothing is decoded.
// A mostly-zero array also has a "mask", a bit per value (least significant first), 1 where a value
// was sent, and the "count" of those; its offset holds them alone, in order; the zeros are filled in
// here.
const TYPED = { float32: Float32Array, float64: Float64Array, int32: Int32Array, uint8: Uint8Array };

// A mostly-zero array, written with unsigned integers of its values' width: each value sent is copied
// bit for bit (read as a JavaScript number, a float need not keep a NaN's bits) to the place of its
// bit in the mask; a byte of the mask at 0 is eight zeros, skipped at once.
function expand(Typed, buffer, start, value) {
  const array = new Typed(value.length);
  const width = Typed.BYTES_PER_ELEMENT;
  const Word = width === 1 ? Uint8Array : Uint32Array;
  const words = width === 1 ? 1 : width / 4; // per value
  const into = new Word(array.buffer);
  const from = new Word(buffer, start + value.offset, value.count * words);
  const mask = new Uint8Array(buffer, start + value.mask, Math.ceil(value.length / 8));
  let j = 0;
  for (let byte = 0; byte < mask.length; byte++) {
    for (let bits = mask[byte]; bits !== 0; bits &= bits - 1) {
      const i = 8 * byte + 31 - Math.clz32(bits & -bits); // the lowest bit still set
      for (let w = 0; w < words; w++) into[i * words + w] = from[j++];
    }
  }
  return array;
}

function unpack(message) {
  const buffer = message.slice().buffer; // a buffer of its own, so that every array is aligned in it
  const length = new DataView(buffer).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, length)));
  const start = Math.ceil((4 + length) / 8) * 8;
  const read = (value) => {
    if (Array.isArray(value)) return value.map(read);
    if (value === null || typeof value !== "object") return value;
    if ("$array" in value) {
      const Typed = TYPED[value.$array];
      if ("mask" in value) return expand(Typed, buffer, start, value);
      return new Typed(buffer, start + value.offset, value.length);
    }
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, read(item)]));
  };
  return read(header);
}
