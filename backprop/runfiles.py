"""What the JSON files of a run folder may hold, checked where they are read.

A run folder can come from anywhere (copied in, unpacked by hand, edited), so
config.json and history.json are valid JSON of any shape until checked here.
Each check returns plain Python values the rest of the code can trust, or
raises ValueError naming the file, the field and the bad value:

    history.json: epoch record 2 has train_loss 'abc'; expected a number
"""

from __future__ import annotations

from .training import History

RUN_FORMAT = "backprop-run/1"
# Percentiles of TensorBoard's "distributions" view: min, ±1.5σ, ±1σ, ±0.5σ, median, max.
PERCENTILES = (0, 7, 16, 31, 50, 69, 84, 93, 100)
# Per-epoch fields that must be numbers, and those that may also be null (no validation data, regression).
REQUIRED_NUMBERS = ("train_loss", "learning_rate")
OPTIONAL_NUMBERS = ("train_accuracy", "val_loss", "val_accuracy", "seconds", "samples_seen")
CURSOR_COUNTS = ("epoch", "batch_index", "step", "samples_seen")
TEXT_FIELDS = ("name", "created", "parent", "imported")


def show(value, width: int = 40) -> str:
    """repr(value), cut to ``width`` characters so a message stays one line."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def kind(value) -> str:
    """'a list', 'an object', 'text', ... for messages about JSON values."""
    names = {dict: "an object", list: "a list", str: "text", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_meta(meta) -> dict:
    """config.json: {"format", "config": {...}, "name", "created", "parent"}; the settings stay unparsed."""
    if not isinstance(meta, dict) or meta.get("format") != RUN_FORMAT or "config" not in meta:
        raise ValueError(f"config.json is not a {RUN_FORMAT} run description")
    if not isinstance(meta["config"], dict):
        raise ValueError(f"config.json: 'config' is {show(meta['config'])}; expected an object of settings")
    for key in TEXT_FIELDS:
        if meta.get(key) is not None and not isinstance(meta[key], str):
            raise ValueError(f"config.json: {key!r} is {show(meta[key])}; expected text")
    return meta


def check_cursor(cursor, where: str) -> dict | None:
    """Where a stopped epoch resumes: whole numbers epoch, batch_index, step, samples_seen (+ epoch_stats)."""
    if cursor is None:
        return None
    if not isinstance(cursor, dict):
        raise ValueError(f"{where}: 'cursor' is {show(cursor)}; expected an object")
    for key in CURSOR_COUNTS:
        if key in cursor and not is_count(cursor[key]):
            raise ValueError(f"{where}: cursor {key} is {show(cursor[key])}; expected a whole number")
    stats = cursor.get("epoch_stats")
    if stats is not None and (
        not isinstance(stats, list) or len(stats) != 4 or not all(is_number(v) for v in stats)
    ):
        raise ValueError(f"{where}: cursor epoch_stats is {show(stats)}; expected four numbers")
    return cursor


def _check_layers(layers, where: str) -> None:
    if not isinstance(layers, list):
        raise ValueError(f"{where} has layers {show(layers)}; expected a list")
    for index, layer in enumerate(layers, 1):
        at = f"{where}, layer {index}"
        if not isinstance(layer, dict):
            raise ValueError(f"{at} is {show(layer)}; expected an object")
        for quantity in ("W", "a", "dW"):
            values = layer.get(quantity)
            if (
                not isinstance(values, list)
                or len(values) != len(PERCENTILES)
                or not all(map(is_number, values))
            ):
                raise ValueError(
                    f"{at}: {quantity} is {show(values)}; expected {len(PERCENTILES)} percentiles"
                )
        if not is_number(layer.get("grad_norm")):
            raise ValueError(f"{at}: grad_norm is {show(layer.get('grad_norm'))}; expected a number")


def _check_record(record, index: int, previous_step: int) -> None:
    where = f"epoch record {index}"
    if not isinstance(record, dict):
        raise ValueError(f"{where} is {show(record)}; expected an object")
    if record.get("epoch") != index or isinstance(record.get("epoch"), bool):
        raise ValueError(f"{where} has epoch {show(record.get('epoch'))}; expected {index}")
    step = record.get("step")
    if not is_count(step):
        raise ValueError(f"{where} has step {show(step)}; expected a whole number")
    if step < previous_step:
        raise ValueError(f"{where} has step {step}, before the previous epoch's {previous_step}")
    for key in REQUIRED_NUMBERS:
        if not is_number(record.get(key)):
            raise ValueError(f"{where} has {key} {show(record.get(key))}; expected a number")
    for key in OPTIONAL_NUMBERS:
        if record.get(key) is not None and not is_number(record[key]):
            raise ValueError(f"{where} has {key} {show(record[key])}; expected a number")
    if record.get("layers") is not None:
        _check_layers(record["layers"], where)


def check_history(raw, where: str = "history.json") -> tuple[History, dict | None]:
    """(History, cursor) from the JSON of history.json; ValueError names the first bad field."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where} holds {kind(raw)}, not an object with 'epochs'")
    epochs = raw.get("epochs")
    if not isinstance(epochs, list):
        raise ValueError(f"{where}: 'epochs' is {show(epochs)}; expected a list")
    step, layer_count = 0, None
    for index, record in enumerate(epochs, 1):
        try:
            _check_record(record, index, step)
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
        step = record["step"]
        if record.get("layers") is not None:
            count = len(record["layers"])
            if layer_count is not None and count != layer_count[0]:
                raise ValueError(
                    f"{where}: epoch record {index} has {count} layers, epoch record {layer_count[1]} "
                    f"has {layer_count[0]}"
                )
            layer_count = layer_count or (count, index)
    step_loss = raw.get("step_loss", [])
    if not isinstance(step_loss, list):
        raise ValueError(f"{where}: 'step_loss' is {show(step_loss)}; expected a list of numbers")
    for index, value in enumerate(step_loss, 1):
        if not is_number(value):
            raise ValueError(f"{where}: step loss {index} is {show(value)}; expected a number")
    for key in ("stop_reason", "best_monitor"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise ValueError(f"{where}: {key!r} is {show(raw[key])}; expected text")
    best = raw.get("best_epoch")
    if best is not None and (not is_count(best) or not 1 <= best <= len(epochs)):
        raise ValueError(f"{where}: 'best_epoch' is {show(best)}; expected an epoch from 1 to {len(epochs)}")
    cursor = check_cursor(raw.get("cursor"), where)
    history = History(
        epochs=list(epochs),
        step_loss=[float(v) for v in step_loss],
        stop_reason=raw.get("stop_reason"),
        best_epoch=best,
        best_monitor=raw.get("best_monitor"),
    )
    return history, cursor
