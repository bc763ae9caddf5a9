// Reading a viz.encoding.pack message, for the components that are sent one (the map view and the
// curve view); ui.components puts this before a packed component's own JavaScript.
//
// The message: the header's length (uint32, little-endian), the header (the payload as JSON, each
// array replaced by {"$array": dtype, offset, length}), then the arrays' part, each array from a
// multiple of 8 bytes. Each array becomes a typed array over the message's bytes: nothing is decoded.
const TYPED = { float32: Float32Array, float64: Float64Array, int32: Int32Array, uint8: Uint8Array };

function unpack(message) {
  const buffer = message.slice().buffer; // a buffer of its own, so that every array is aligned in it
  const length = new DataView(buffer).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, length)));
  const start = Math.ceil((4 + length) / 8) * 8;
  const read = (value) => {
    if (Array.isArray(value)) return value.map(read);
    if (value === null || typeof value !== "object") return value;
    if ("$array" in value) return new TYPED[value.$array](buffer, start + value.offset, value.length);
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, read(item)]));
  };
  return read(header);
}
