"""Importing a run archive from outside: lying, damaged and bomb zips end in a message, the store unchanged."""

import io
import json
import os
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

import datasets
from backprop import RunConfig, limits
from backprop.runs import RunStore, train_run
from tests.hostile_files import bomb_npz, deflate_zeros, deflated_entry, npy_header, npz_bytes, raw_zip

MiB = 1 << 20


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(zip bytes, {member: bytes}) of a trained two-epoch run, exported once for the module."""
    store = RunStore(tmp_path_factory.mktemp("source") / "runs")
    data = datasets.load("circle", samples=120)
    run = store.create(
        "source",
        RunConfig(dataset="circle", dataset_params={"samples": 120}, layers="dense4-gelu"),
        dataset=data,
    )
    train_run(run, data, epochs=2)
    archive = store.export_zip("source")
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        members = {name: opened.read(name) for name in opened.namelist()}
    return archive, members


@pytest.fixture
def store(isolated_runs_dir):
    store = RunStore()
    store.root.mkdir(parents=True)
    return store


def zip_of(members: dict, method=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def refused(store, data, match, seconds=2.0, peak_mib=40):
    """Import ``data``: it must raise ValueError matching ``match``, fast, with bounded memory, store unchanged."""
    before = sorted(os.listdir(store.root))
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ValueError, match=match) as caught:
            store.import_zip(data, name="imported")
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sorted(os.listdir(store.root)) == before, "the store changed"
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    assert peak < peak_mib * MiB, f"peak {peak / MiB:.0f} MiB"
    return str(caught.value)


def test_an_exported_run_still_imports(store, exported):
    archive, _ = exported
    run = store.import_zip(archive, name="copy")
    assert len(run.history) == 2 and run.config.layers == "dense4-gelu"


def test_a_gigabyte_array_packed_into_a_megabyte_is_refused_from_its_headers(store, exported):
    _, members = exported
    archive = zip_of({**members, "latest.npz": bomb_npz(1024)}, method=zipfile.ZIP_STORED)
    assert len(archive) < 2 * MiB
    message = refused(store, archive, "latest.npz", seconds=1.0, peak_mib=20)
    assert "1 GiB" in message and limits.ARCHIVE_BYTES.env in message


def test_an_archive_whose_directory_declares_too_many_bytes_is_refused_before_reading(store, exported):
    _, members = exported
    entries = [deflated_entry(name, data) for name, data in members.items()]
    entries[0]["file_size"] = 300 * MiB  # a lie, and over the budget
    message = refused(store, raw_zip(entries), "unpacked", seconds=0.5, peak_mib=10)
    assert "256 MiB" in message and limits.ARCHIVE_BYTES.env in message


def test_an_entry_that_inflates_past_its_declared_size_is_damage_not_a_memory_spike(store, exported):
    _, members = exported
    entries = [deflated_entry(name, data) for name, data in members.items() if name != "history.json"]
    # history.json declares 2 KB; its deflate stream inflates to 64 MiB of zeros.
    stream, crc, _ = deflate_zeros(b'{"epochs": [], "step_loss": [', 64)
    entries.append({"name": "history.json", "data": stream, "crc": crc, "file_size": 2048})
    refused(store, raw_zip(entries), "damaged", peak_mib=20)


def test_an_entry_that_holds_less_than_its_declared_size_is_damage(store, exported):
    _, members = exported
    entries = [deflated_entry(name, data) for name, data in members.items()]
    big = next(e for e in entries if e["name"] == "initial.npz")
    big["file_size"] += 5 * MiB
    refused(store, raw_zip(entries), "damaged")


def test_damaged_bytes_inside_an_entry_are_reported(store, exported):
    archive, _ = exported
    broken = bytearray(archive)
    middle = len(broken) // 2
    broken[middle : middle + 64] = bytes(64)
    refused(store, bytes(broken), "damaged|not a readable|not valid JSON|not a zip")


@pytest.mark.parametrize(
    "name, match",
    [
        ("../evil.json", "a path outside a run folder"),
        ("/etc/config.json", "a path outside a run folder"),
        ("runs/../../config.json", "a path outside a run folder"),
        ("C:\\config.json", "a path outside a run folder"),
        ("snapshots/", "not part of an exported run"),
        ("notes.txt", "not part of an exported run"),
    ],
)
def test_names_other_than_the_run_files_are_refused(store, exported, tmp_path, name, match):
    _, members = exported
    refused(store, zip_of({**members, name: b"{}"}), match)
    assert not (store.root.parent / "evil.json").exists()


def test_a_file_listed_twice_is_refused(store, exported):
    _, members = exported
    entries = [deflated_entry(name, data) for name, data in members.items()]
    entries.append(deflated_entry("config.json", b'{"format": "backprop-run/1", "config": {"hidden": [9]}}'))
    refused(store, raw_zip(entries), "config.json twice")


def test_encrypted_or_exotically_compressed_entries_are_refused(store, exported):
    _, members = exported
    entries = [deflated_entry(name, data) for name, data in members.items()]
    encrypted = raw_zip(entries)
    # Set the "encrypted" flag of the first local and central header.
    encrypted = encrypted.replace(b"PK\x03\x04\x14\x00\x00\x00", b"PK\x03\x04\x14\x00\x01\x00", 1)
    encrypted = encrypted.replace(
        b"PK\x01\x02\x14\x00\x14\x00\x00\x00", b"PK\x01\x02\x14\x00\x14\x00\x01\x00", 1
    )
    refused(store, encrypted, "encrypted")
    refused(store, zip_of(members, method=zipfile.ZIP_LZMA), "compression method 14")


@pytest.mark.parametrize(
    "member, content, match",
    [
        ("config.json", b"[]", "config.json is not a backprop-run/1 run description"),
        ("config.json", b'{"format": "backprop-run/1", "config": {"hidden": "x"}}', "hidden sizes"),
        ("history.json", b'{"epochs": [{"epoch": "one"}]}', "epoch record 1 has epoch 'one'"),
        ("history.json", b"\xff\xfe not text", "history.json is not valid JSON"),
        ("latest.npz", npz_bytes(**{"layer1.W": np.array([{"x": 1}], dtype=object)}), "only plain numbers"),
    ],
)
def test_wrong_shaped_contents_are_a_message(store, exported, member, content, match):
    _, members = exported
    refused(store, zip_of({**members, member: content}), match)


def test_a_config_whose_sizes_disagree_with_the_weights_is_refused_before_building(store, exported):
    _, members = exported
    meta = json.loads(members["config.json"])
    meta["config"]["layers"] = "dense4096-dense4096-dense4096"  # built, 33 million weights
    message = refused(
        store,
        zip_of({**members, "config.json": json.dumps(meta).encode()}),
        "does not match its weights",
        peak_mib=10,
    )
    assert "33,583,106 parameters" in message


def test_optimizer_state_that_does_not_fit_the_network_is_refused(store, exported):
    _, members = exported
    with np.load(io.BytesIO(members["latest.npz"])) as latest:
        arrays = dict(latest)
    assert "optimizer.dense1.W.0" in arrays  # Adam's first moment of dense1's weights, saved with them
    arrays["optimizer.dense1.W.0"] = np.zeros((7, 7), np.float32)
    refused(store, zip_of({**members, "latest.npz": npz_bytes(**arrays)}), "optimizer state in latest.npz")
    # Older runs kept it in optimizer.npz: checked the same way.
    older = {key: value for key, value in arrays.items() if not key.startswith("optimizer.")}
    meta = json.loads(arrays["__config__"].tobytes())
    counters = meta.pop("optimizer")
    older["__config__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    legacy_meta = np.frombuffer(json.dumps(counters).encode(), np.uint8)
    legacy_state = npz_bytes(**{"0.W.0": np.zeros((7, 7), np.float32), "__config__": legacy_meta})
    refused(
        store,
        zip_of({**members, "latest.npz": npz_bytes(**older), "optimizer.npz": legacy_state}),
        "optimizer.npz",
    )


def test_json_over_its_budget_in_an_archive_is_refused_from_the_directory(store, exported, monkeypatch):
    _, members = exported
    monkeypatch.setenv(limits.HISTORY_BYTES.env, "1K")
    message = refused(store, zip_of(members), "history.json")
    assert limits.HISTORY_BYTES.env in message


def test_an_npy_header_claiming_a_huge_array_inside_an_archive_is_refused(store, exported):
    _, members = exported
    huge = raw_zip([deflated_entry("layer1.W.npy", npy_header((100_000, 100_000)) + bytes(16))])
    refused(store, zip_of({**members, "initial.npz": huge}), "initial.npz", peak_mib=10)


def test_random_damage_never_escapes_as_anything_but_a_message(store, exported):
    archive, _ = exported
    rng = np.random.default_rng(0)
    for _ in range(150):
        broken = bytearray(archive)
        for position in rng.integers(0, len(broken), size=int(rng.integers(1, 8))):
            broken[position] = int(rng.integers(0, 256))
        before = sorted(os.listdir(store.root))
        try:
            run = store.import_zip(bytes(broken), name="fuzzed")
        except ValueError:
            assert sorted(os.listdir(store.root)) == before
        else:  # the damage missed everything that matters
            assert run.history is not None
            store.delete("fuzzed")
