"""Server-side cost of one drawing on the Draw & predict page, per built-in model.

    python bench/draw.py [--repeat 200]

Times decoding the canvas PNG, preprocessing (280×280 RGBA canvas -> model input), prediction and the
saliency pass (forward + backward to the input), which is what the page runs
for every stroke. The budget is 100 ms per drawing.
"""

from __future__ import annotations

import argparse
import base64
import io
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backprop import load_with_metadata
from backprop.saliency import probability_gradient
from datasets import drawing

MODELS = Path(__file__).resolve().parent.parent / "models"


def sample_drawings() -> dict[str, np.ndarray]:
    def canvas(paint):
        image = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
        paint(ImageDraw.Draw(image))
        return np.asarray(image)

    white = (255, 255, 255, 255)
    return {
        "bar": canvas(lambda d: d.line([(140, 45), (140, 235)], fill=white, width=18)),
        "loop": canvas(lambda d: d.ellipse([80, 45, 200, 235], outline=white, width=18)),
        "triangle": canvas(
            lambda d: d.line([(140, 40), (245, 225), (35, 225), (140, 40)], fill=white, width=18)
        ),
    }


def best_of(fn, repeat: int) -> float:
    """Median seconds of ``repeat`` calls (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args(argv)
    drawings = sample_drawings()
    print(
        f"{'model':<10} {'drawing':<9} {'decode':>9} {'prepare':>9} {'predict':>9} {'saliency':>9} {'total':>9}  (median ms)"
    )
    for path in sorted(MODELS.glob("*.npz")):
        net, meta = load_with_metadata(path)
        style = drawing.style_for(meta["dataset"], meta.get("input_shape"))
        for name, image in drawings.items():
            prepared = drawing.prepare(image, style)
            # The canvas sends its pixels as a PNG data URL; the page checks and decodes it.
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, format="PNG")
            url = drawing.CANVAS_PNG_PREFIX + base64.b64encode(buffer.getvalue()).decode("ascii")
            side = image.shape[0]
            # each lambda runs right here, inside this iteration, so late binding is harmless
            t_decode = best_of(lambda: drawing.read_canvas_png(url, side), args.repeat)  # noqa: B023
            t_prep = best_of(lambda: drawing.prepare(image, style), args.repeat)  # noqa: B023
            t_pred = best_of(lambda: net.predict_proba(prepared.x), args.repeat)  # noqa: B023
            t_sal = best_of(lambda: probability_gradient(net, prepared.x), args.repeat)  # noqa: B023
            total = t_decode + t_prep + t_pred + t_sal
            print(
                f"{path.stem:<10} {name:<9} {t_decode * 1e3:9.2f} {t_prep * 1e3:9.2f} {t_pred * 1e3:9.2f} {t_sal * 1e3:9.2f} "
                f"{total * 1e3:9.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
