"""Reading files from outside: only regular files, JSON within its budget, .npz sizes held to the budgets."""

import os
import threading
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

from backprop import limits
from backprop.files import load_arrays, open_regular, read_json, save_arrays
from tests.hostile_files import bomb_npz, deflate_zeros, deflated_entry, npy_header, npz_bytes, raw_zip

MiB = 1 << 20


def finishes_within(seconds, work):
    """Run ``work`` in a thread; (finished, result or exception). A hang is reported, not waited out."""
    outcome = {}

    def target():
        try:
            outcome["value"] = work()
        except BaseException as err:  # the test inspects it
            outcome["value"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive(), outcome.get("value")


def peak_memory(work):
    """(result or exception, peak bytes allocated by Python and NumPy while ``work`` ran)."""
    tracemalloc.start()
    try:
        try:
            result = work()
        except Exception as err:  # the test inspects it
            result = err
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ------------------------------------------------------------ special files
def test_a_symbolic_link_is_not_followed_even_to_a_regular_file(tmp_path):
    (tmp_path / "elsewhere.json").write_text("{}")
    os.symlink(tmp_path / "elsewhere.json", tmp_path / "history.json")
    with pytest.raises(ValueError, match="history.json is a symbolic link"):
        open_regular(tmp_path / "history.json")


def test_a_fifo_is_refused_at_once_instead_of_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "history.json")
    finished, outcome = finishes_within(5, lambda: read_json(tmp_path / "history.json", limits.HISTORY_BYTES))
    assert finished, "reading a FIFO hangs"
    assert isinstance(outcome, ValueError) and "named pipe" in str(outcome)

    os.mkfifo(tmp_path / "latest.npz")
    finished, outcome = finishes_within(5, lambda: load_arrays(tmp_path / "latest.npz"))
    assert finished, "loading a FIFO as weights hangs"
    assert isinstance(outcome, ValueError) and "named pipe" in str(outcome)


def test_a_folder_or_device_where_a_file_belongs_is_refused(tmp_path):
    (tmp_path / "history.json").mkdir()
    with pytest.raises(ValueError, match="history.json is a folder"):
        read_json(tmp_path / "history.json", limits.HISTORY_BYTES)
    os.symlink("/dev/zero", tmp_path / "best.npz")
    finished, outcome = finishes_within(5, lambda: load_arrays(tmp_path / "best.npz"))
    assert finished and isinstance(outcome, ValueError) and "symbolic link" in str(outcome)


def test_json_beyond_its_budget_is_refused_with_the_variable_that_raises_it(tmp_path, monkeypatch):
    monkeypatch.setenv(limits.HISTORY_BYTES.env, "1K")
    (tmp_path / "history.json").write_text('{"epochs": [], "step_loss": [' + "0.5, " * 400 + "0.5]}")
    with pytest.raises(limits.OverBudget, match=r"history.json is 2(\.\d)? KiB, more than the 1 KiB allowed"):
        read_json(tmp_path / "history.json", limits.HISTORY_BYTES)
    with pytest.raises(ValueError, match=limits.HISTORY_BYTES.env):
        read_json(tmp_path / "history.json", limits.HISTORY_BYTES)


def test_deeply_nested_json_is_a_message_not_a_crash(tmp_path):
    (tmp_path / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match="config.json"):
        read_json(tmp_path / "config.json", limits.CONFIG_BYTES)


# ------------------------------------------------------------------ .npz
def test_arrays_round_trip_through_the_safe_reader(tmp_path):
    weights = {"layer1.W": np.arange(12, dtype=np.float32).reshape(3, 4), "layer1.b": np.ones(4)}
    weights["fortran"] = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    save_arrays(tmp_path / "w.npz", weights, {"step": 3})
    arrays, meta = load_arrays(tmp_path / "w.npz")
    assert meta == {"step": 3}
    for key, value in weights.items():
        np.testing.assert_array_equal(arrays[key], value)
        assert arrays[key].dtype == value.dtype
    assert load_arrays((tmp_path / "w.npz").read_bytes(), name="upload")[0].keys() == weights.keys()


def test_an_npy_header_claiming_a_huge_array_is_refused_before_allocating(tmp_path):
    # 100000 x 100000 float32 is 37 GiB; the file is a few hundred bytes.
    payload = npy_header((100_000, 100_000)) + bytes(64)
    (tmp_path / "latest.npz").write_bytes(raw_zip([deflated_entry("layer1.W.npy", payload)]))
    outcome, peak = peak_memory(lambda: load_arrays(tmp_path / "latest.npz"))
    assert isinstance(outcome, limits.OverBudget), outcome
    assert "layer1.W in latest.npz is 37.3 GiB" in str(outcome) and limits.ARRAY_BYTES.env in str(outcome)
    assert peak < 5 * MiB


def test_an_npy_header_that_disagrees_with_the_zip_directory_is_damage(tmp_path):
    # 1000 float32 declared by the .npy header, 64 bytes of data declared and held by the zip.
    payload = npy_header((1000,)) + bytes(64)
    (tmp_path / "latest.npz").write_bytes(raw_zip([deflated_entry("layer1.W.npy", payload)]))
    with pytest.raises(ValueError, match="latest.npz is not a readable weights file .*declares 4,000 bytes"):
        load_arrays(tmp_path / "latest.npz")


def test_a_zip_directory_understating_the_data_reads_no_more_than_it_declares(tmp_path):
    # The directory says 128 + 64 bytes; the deflate stream behind it inflates to 64 MiB more.
    header = npy_header((16,))
    data, full_crc, _ = deflate_zeros(header + bytes(64), 64)
    declared = len(header) + 64
    honest_crc = deflated_entry("x", header + bytes(64))["crc"]
    (tmp_path / "prefix.npz").write_bytes(
        raw_zip([{"name": "layer1.W.npy", "data": data, "crc": honest_crc, "file_size": declared}])
    )
    (tmp_path / "whole.npz").write_bytes(
        raw_zip([{"name": "layer1.W.npy", "data": data, "crc": full_crc, "file_size": declared}])
    )
    outcome, peak = peak_memory(lambda: load_arrays(tmp_path / "prefix.npz"))
    assert outcome[0]["layer1.W"].shape == (16,) and peak < 8 * MiB
    outcome, peak = peak_memory(lambda: load_arrays(tmp_path / "whole.npz"))
    assert isinstance(outcome, ValueError) and "whole.npz is not a readable weights file" in str(outcome)
    assert "CRC" in str(outcome) and peak < 8 * MiB


def test_a_highly_compressed_gigabyte_npz_is_refused_from_its_directory_quickly(tmp_path):
    (tmp_path / "latest.npz").write_bytes(bomb_npz(1024))
    assert (tmp_path / "latest.npz").stat().st_size < 2 * MiB
    start = time.perf_counter()
    outcome, peak = peak_memory(lambda: load_arrays(tmp_path / "latest.npz"))
    seconds = time.perf_counter() - start
    assert isinstance(outcome, limits.OverBudget), outcome
    assert "latest.npz unpacked is 1 GiB, more than the 256 MiB allowed" in str(outcome)
    assert seconds < 1.0 and peak < 5 * MiB


def test_the_array_budget_is_enforced_per_array(tmp_path, monkeypatch):
    monkeypatch.setenv(limits.ARRAY_BYTES.env, "1M")
    (tmp_path / "big.npz").write_bytes(npz_bytes(W=np.zeros(300_000, np.float32)))
    with pytest.raises(limits.OverBudget, match=r"W in big.npz is 1.1 MiB, more than the 1 MiB allowed"):
        load_arrays(tmp_path / "big.npz")


def test_damaged_bytes_inside_an_array_are_reported(tmp_path):
    save_arrays(tmp_path / "w.npz", {"W": np.arange(1000, dtype=np.float32)})
    data = bytearray((tmp_path / "w.npz").read_bytes())
    data[400:420] = b"\xff" * 20  # inside the stored array, so only the CRC-32 can tell
    (tmp_path / "w.npz").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="w.npz is not a readable weights file .*CRC"):
        load_arrays(tmp_path / "w.npz")
    # Checking without keeping the arrays reads every byte too.
    with pytest.raises(ValueError, match="CRC"):
        load_arrays(tmp_path / "w.npz", keep=False)


@pytest.mark.parametrize(
    "member, message",
    [("notes.txt", "which is not an array"), ("../../escape.npy", "invalid shape|not a readable")],
)
def test_members_that_are_not_plain_arrays_are_refused(tmp_path, member, message):
    with zipfile.ZipFile(tmp_path / "odd.npz", "w") as archive:
        archive.writestr(member, b"hello")
    with pytest.raises(ValueError, match=message):
        load_arrays(tmp_path / "odd.npz")


def test_an_npz_compressed_with_another_method_is_refused_before_inflating(tmp_path):
    with zipfile.ZipFile(tmp_path / "lzma.npz", "w", compression=zipfile.ZIP_LZMA) as archive:
        archive.writestr("W.npy", npy_header((4,)) + bytes(16))
    with pytest.raises(ValueError, match="compression method 14"):
        load_arrays(tmp_path / "lzma.npz")


def test_reading_a_small_file_under_a_large_budget_costs_only_the_file(tmp_path):
    (tmp_path / "history.json").write_text('{"epochs": []}')
    outcome, peak = peak_memory(lambda: read_json(tmp_path / "history.json", limits.HISTORY_BYTES))
    assert outcome == {"epochs": []}
    assert peak < MiB  # not the 64 MiB the budget would allow
