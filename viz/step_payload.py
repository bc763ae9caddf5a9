"""One step for the browser: a ``StepView`` packed into the bytes the step player reads.

Layout (all little-endian):

    b"BPS1" | uint32 header length | header (UTF-8 JSON) | zero padding to 4 bytes | data

The header describes the phases (with their equations), the axes, the blocks (their
sections: which tensor goes in which row and column of the panel), and every tensor:
its layout, shape, min/p25/median/p75/max and max |value|, the phase index from
which it is shown, the block-averaging factors ``reduce`` and where its numbers sit
in ``data``.
A tensor of at most ``EXACT_CELLS`` values travels exactly (float32). A larger matrix
is averaged in blocks down to at most ``MAX_CELLS`` cells (and ``MAX_ROWS`` rows, so a
tall matrix, such as an image input's weights, stays drawable) and quantized per column: int8 q with a float32
scale per column, value ≈ q/127·scale (q = -128 marks NaN), so the browser can colour
it on any scale. Maps (an A×B grid of h×w tiles) are quantized per tile the same way,
with one scale per tile. Exact numbers of a clicked cell come from the engine on the
server. The colour lookup table travels as 256×3 bytes.

Bytes rather than JSON: float32 and int8 arrays cost one or four bytes a value
instead of a base64 or decimal text, which keeps the 784-256-64-10 network's
step, three copies of its largest matrix included, within a few hundred KB.
"""

from __future__ import annotations

import json
import struct

import numpy as np

from .colors import LUT
from .step_view import StepView, Tensor

MAGIC = b"BPS1"
EXACT_CELLS = 4096
MAX_CELLS = 65_536
MAX_ROWS = 512
QUANT = 127
NAN_CODE = -128


def _floats(values) -> np.ndarray:
    """The values as a float array, without a copy when they are float32 or float64 already."""
    m = np.asarray(values)
    return m if m.dtype.kind == "f" else m.astype(np.float64)


def tensor_stats(values: np.ndarray) -> dict:
    """min, p25, median, p75, max and max |value| of the finite entries (None when there are none).

    Taken in the values' own precision: a float32 matrix is not copied to float64 first.
    """
    m = _floats(values).ravel()
    finite = np.isfinite(m)
    if not finite.all():
        m = m[finite]
    if m.size == 0:
        return dict.fromkeys(("min", "p25", "median", "p75", "max", "absmax"))
    # np.percentile's linear interpolation between the ranks around each position. A sort: NumPy sorts
    # float32 with vector instructions, several times faster than a partition around eight ranks.
    position = np.array([0.0, 0.25, 0.5, 0.75, 1.0]) * (m.size - 1)
    low, high = np.floor(position).astype(np.intp), np.ceil(position).astype(np.intp)
    ranked = np.sort(m)
    q = ranked[low] + (ranked[high].astype(np.float64) - ranked[low]) * (position - low)
    out = dict(zip(("min", "p25", "median", "p75", "max"), (float(v) for v in q)))
    out["absmax"] = max(abs(out["min"]), abs(out["max"]))
    return out


def reduction(
    shape: tuple[int, int], max_cells: int = MAX_CELLS, max_rows: int = MAX_ROWS
) -> tuple[int, int]:
    """(rows per block, columns per block) that bring shape within max_cells, longer side first,
    and within max_rows rows."""
    rows, cols = shape
    r_rows = r_cols = 1
    while -(-rows // r_rows) * -(-cols // r_cols) > max_cells:
        if -(-rows // r_rows) >= -(-cols // r_cols):
            r_rows += 1
        else:
            r_cols += 1
    return max(r_rows, -(-rows // max_rows)), r_cols


def block_mean(m: np.ndarray, r_rows: int, r_cols: int) -> np.ndarray:
    """Mean over r_rows×r_cols blocks; the last block of a side may be smaller. NaN-aware."""
    if r_rows == r_cols == 1:
        return m
    m = _floats(m)
    row_starts, col_starts = np.arange(0, m.shape[0], r_rows), np.arange(0, m.shape[1], r_cols)

    def reduce(a):
        return np.add.reduceat(np.add.reduceat(a, row_starts, axis=0), col_starts, axis=1)

    finite = np.isfinite(m)
    if finite.all():  # the usual case: block sizes are known without counting
        rows = np.minimum(r_rows, m.shape[0] - row_starts)[:, None]
        cols = np.minimum(r_cols, m.shape[1] - col_starts)[None, :]
        return reduce(m) / (rows * cols).astype(m.dtype)
    sums, counts = reduce(np.where(finite, m, 0.0)), reduce(finite.astype(m.dtype))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def quantize(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(q int8 (rows, cols), scale float32 (cols,)): value ≈ q/127·scale, NaN as -128."""
    finite = np.isfinite(m)
    scale = np.where(finite, np.abs(m), 0.0).max(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    q = np.rint(np.where(finite, m, 0.0) / scale * QUANT).clip(-QUANT, QUANT).astype(np.int8)
    q[~finite] = NAN_CODE
    return q, scale.astype(np.float32)


class _Data:
    """The data section: arrays appended at 4-byte-aligned offsets."""

    def __init__(self):
        self.parts, self.size = [], 0

    def add(self, array: np.ndarray) -> int:
        raw = np.ascontiguousarray(array).tobytes()
        offset = self.size
        pad = (-len(raw)) % 4
        self.parts.append(raw + b"\0" * pad)
        self.size += len(raw) + pad
        return offset


def encode_tensor(tensor: Tensor, data: _Data) -> dict:
    """The header entry of one tensor, its numbers appended to data."""
    m = _floats(tensor.values)
    entry = {"shape": list(m.shape), "stats": tensor_stats(m)}
    if m.size <= EXACT_CELLS:
        entry.update(enc="f32", offset=data.add(m.astype("<f4")), stored=list(m.shape), reduce=[1, 1])
        return entry
    if m.ndim == 4:  # maps: one scale per tile, the tiles kept whole
        a, b, h, w = m.shape
        q, scale = quantize(m.reshape(a * b, h * w).T)
        entry.update(
            enc="q8",
            offset=data.add(np.ascontiguousarray(q.T)),
            scale_offset=data.add(scale.astype("<f4")),
            stored=list(m.shape),
            reduce=[1, 1],
        )
        return entry
    r_rows, r_cols = reduction(m.shape)
    reduced = block_mean(m, r_rows, r_cols)
    q, scale = quantize(reduced)
    entry.update(
        enc="q8",
        offset=data.add(q),
        scale_offset=data.add(scale.astype("<f4")),
        stored=list(q.shape),
        reduce=[r_rows, r_cols],
    )
    return entry


def _json_number(value):
    return None if value is None or not np.isfinite(value) else float(value)


def build_payload(
    view: StepView,
    step_id: int,
    start_phase: int,
    equations: list,
    summaries: list,
    extra: dict | None = None,
    flows: list | None = None,
) -> bytes:
    """The bytes of one step for the player.

    step_id: changes with every new step (the player resets its phase when it does);
    start_phase: the phase index shown first; equations / summaries / flows: per phase, the
    lines and the sentence shown while it is current, and the words written over the lit
    edges of the diagram; extra: more header fields (loss after the update, optimizer, ...).
    """
    data = _Data()
    lut_offset = data.add(np.asarray(LUT, dtype=np.uint8))
    tensors, ids = [], {}

    def add(block, tensor):
        entry = encode_tensor(tensor, data)
        entry.update(
            id=len(tensors),
            key=tensor.key,
            label=tensor.label,
            block=block,
            group=tensor.group,
            rows=tensor.rows,
            cols=tensor.cols,
            known=view.known_at(tensor),
            layout=tensor.layout,
            tile=list(tensor.tile) if tensor.tile else None,
            sample=tensor.sample,
            note=tensor.note,
        )
        ids[(block, tensor.key)] = entry["id"]
        tensors.append(entry)
        return entry["id"]

    inputs = [add(None, t) for t in view.inputs]
    blocks = []
    for block in view.blocks:
        ids_of = {t.key: add(block.index, t) for t in block.tensors}
        blocks.append(
            {
                "index": block.index,
                "kind": block.kind,
                "label": block.label,
                "title": block.title,
                "edge": block.edge,
                "sub": block.sub,
                "activation": block.activation,
                "stages": list(block.stages),
                "n_in": block.n_in,
                "n_out": block.n_out,
                "tensors": list(ids_of.values()),
                "out": ids_of.get(block.out_key),
                "grad": ids_of.get(block.grad_key),
                "sections": [
                    {
                        "title": section.title,
                        "heads": list(section.heads),
                        "note": section.note,
                        "rows": [
                            [None if key is None else ids_of[key] for key in row] for row in section.rows
                        ],
                    }
                    for section in block.sections
                ],
            }
        )
    outputs = [add(None, t) for t in view.outputs]
    header = {
        "version": 1,
        "step": int(step_id),
        "start": int(start_phase),
        "phases": [
            {
                "kind": p.kind,
                "layer": p.layer,
                "stage": p.stage,
                "label": p.label,
                "equations": list(eq),
                "summary": text,
                "flow": flow,
            }
            for p, eq, text, flow in zip(view.phases, equations, summaries, flows or [""] * len(view.phases))
        ],
        "axes": {
            name: {
                "title": a.title,
                "size": a.size,
                "labels": a.labels,
                "pixels": a.pixels,
                "unravel": a.unravel,
                "names": a.unravel_names,
            }
            for name, a in view.axes.items()
        },
        "sample": view.sample,
        "blocks": blocks,
        "inputs": inputs,
        "outputs": outputs,
        "tensors": tensors,
        "loss": _json_number(view.loss),
        "loss_name": view.loss_name,
        "updated": view.updated,
        "batch": view.batch_size,
        "lut": lut_offset,
        **(extra or {}),
    }
    text = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    text += b" " * ((-(len(text) + 8)) % 4)
    return MAGIC + struct.pack("<I", len(text)) + text + b"".join(data.parts)


def read_payload(payload: bytes) -> tuple[dict, memoryview]:
    """(header, data section) of a payload: what the player's JavaScript reads."""
    if payload[:4] != MAGIC:
        raise ValueError(f"not a step payload: starts with {bytes(payload[:4])!r}")
    (length,) = struct.unpack("<I", payload[4:8])
    return json.loads(payload[8 : 8 + length]), memoryview(payload)[8 + length :]


def decode_tensor(entry: dict, data: memoryview) -> np.ndarray:
    """The stored array of a tensor entry: exact values, or the block means rebuilt from q8."""
    shape = entry["stored"]
    size = int(np.prod(shape))
    if entry["enc"] == "f32":
        return np.frombuffer(data, "<f4", size, entry["offset"]).reshape(shape)
    q = np.frombuffer(data, np.int8, size, entry["offset"]).reshape(shape)
    if len(shape) == 4:  # one scale per tile
        scale = np.frombuffer(data, "<f4", shape[0] * shape[1], entry["scale_offset"])
        scale = scale.reshape(shape[0], shape[1], 1, 1)
    else:
        scale = np.frombuffer(data, "<f4", shape[1], entry["scale_offset"])
    values = q.astype(np.float64) / QUANT * scale
    return np.where(q == NAN_CODE, np.nan, values)
