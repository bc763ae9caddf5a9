"""Memory and time of the worst input from outside, each refused or read within its budget.

    python bench/hostile_inputs.py            # every case, each in a fresh process
    python bench/hostile_inputs.py --case png-9000

For each case a fresh Python process builds the input (a 9000 × 9000 PNG, a run
archive holding a 1 GB array packed into 1 MB, zips whose directory lies about
sizes, ...), notes its resident memory, resets the kernel's peak counter, does
what the server does with such an upload, and prints the peak resident memory
over that idle level and the time taken. Linux only (/proc/self/status).
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import datasets  # noqa: E402
from backprop import RunConfig, limits  # noqa: E402
from backprop.runs import RunStore, train_run  # noqa: E402
from datasets import drawing  # noqa: E402
from tests.hostile_files import blank_png, bomb_npz, deflate_zeros, deflated_entry, npy_header, raw_zip  # noqa: E402


def memory_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def exported_members(folder: Path) -> dict[str, bytes]:
    """The files of a small trained run, as export_zip writes them."""
    store = RunStore(folder / "source")
    data = datasets.load("circle", samples=120)
    train_run(
        store.create("source", RunConfig(dataset="circle", dataset_params={"samples": 120}), dataset=data),
        data,
        epochs=1,
    )
    with zipfile.ZipFile(io.BytesIO(store.export_zip("source"))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def upload(data: bytes):
    return lambda: drawing.read_upload(data, name="upload", max_pixels=limits.UPLOAD_PIXELS.value())


def archive_import(data: bytes, folder: Path):
    return lambda: RunStore(folder / "store").import_zip(data, name="imported")


def photo_jpeg(width: int, height: int) -> bytes:
    noise = Image.effect_noise((width, height), 40).convert("RGB")
    buffer = io.BytesIO()
    noise.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def rgba_png(side: int) -> bytes:
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def build(case: str, folder: Path):
    """(what it is, work to measure) for a case name."""
    if case == "png-9000":
        return "9000×9000 PNG upload (80 KB file, 81 MP)", upload(blank_png(9000, 9000))
    if case == "png-4096-rgba":
        return "4096×4096 RGBA PNG upload (at the budget)", upload(rgba_png(4096))
    if case == "jpeg-4000x3000":
        return "4000×3000 JPEG photo upload (under the budget)", upload(photo_jpeg(4000, 3000))
    members = exported_members(folder)
    if case == "npz-1gb":
        return "run archive, latest.npz = 1 GiB array in 1 MB", archive_import(
            zip_of({**members, "latest.npz": bomb_npz(1024)}), folder
        )
    if case == "zip-understates":
        # history.json declares 2 KB; its deflate stream inflates to 1 GiB.
        stream, crc, _ = deflate_zeros(b'{"epochs": [], "step_loss": [', 1024)
        entries = [deflated_entry(name, data) for name, data in members.items() if name != "history.json"]
        entries.append({"name": "history.json", "data": stream, "crc": crc, "file_size": 2048})
        return "lying zip: 2 KB declared, 1 GiB inside", archive_import(raw_zip(entries), folder)
    if case == "zip-overstates":
        entries = [deflated_entry(name, data) for name, data in members.items()]
        entries[0]["file_size"] = 200 << 20
        return "lying zip: 200 MB declared, a few KB inside", archive_import(raw_zip(entries), folder)
    if case == "npy-header-37gib":
        huge = raw_zip([deflated_entry("layer1.W.npy", npy_header((100_000, 100_000)) + bytes(16))])
        return "run archive, .npy header claims 37 GiB", archive_import(
            zip_of({**members, "initial.npz": huge}), folder
        )
    raise SystemExit(f"unknown case {case!r}")


CASES = (
    "png-9000",
    "png-4096-rgba",
    "jpeg-4000x3000",
    "npz-1gb",
    "zip-understates",
    "zip-overstates",
    "npy-header-37gib",
)


def measure(case: str) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        label, work = build(case, Path(folder))
        Path("/proc/self/clear_refs").write_text("5")  # the peak counts from here
        idle = memory_mib("VmRSS")
        start = time.perf_counter()
        try:
            result = work()
            outcome = "read" if isinstance(result, tuple) else "imported"
        except ValueError as err:
            outcome = f"refused: {str(err)[:90]}"
        seconds = time.perf_counter() - start
        peak = memory_mib("VmHWM")
    return {
        "case": case,
        "label": label,
        "idle_mib": idle,
        "peak_over_idle_mib": peak - idle,
        "seconds": seconds,
        "outcome": outcome,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=CASES)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(measure(args.case)))
        return
    print(f"{'case':44s} {'peak over idle':>15s} {'time':>8s}  outcome")
    for case in CASES:
        run = subprocess.run(
            [sys.executable, __file__, "--case", case], capture_output=True, text=True, check=True
        )
        row = json.loads(run.stdout.strip().splitlines()[-1])
        print(
            f"{row['label']:44s} {row['peak_over_idle_mib']:11.1f} MiB {row['seconds'] * 1000:6.0f} ms  {row['outcome']}"
        )


if __name__ == "__main__":
    main()
