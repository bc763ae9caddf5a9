"""A link is input from anyone: every setting it carries is checked the way the sidebar checks it.

Out-of-range, huge, markup and path-like values in each parameter fall back to the
default with a notice that names the parameter and shows the value as plain text;
nothing is built past the app's budgets and no file on the server is read.
"""

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

import datasets
from backprop import RunConfig, limits
from backprop.config import OPTIONS
from tests.markdown_text import shown

PAGE = "../pages/step_through.py"
DEFAULT = RunConfig()


def open_with(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value if isinstance(value, str) else json.dumps(value)
    at.run()
    assert not at.exception, at.exception
    return at


def config(at) -> RunConfig:
    return at.session_state["bp.config"]


def raw_notices(at) -> str:
    """The notices' Markdown as sent to the browser."""
    return "\n".join(w.value for w in at.warning)


def notices(at) -> str:
    """The notices as a reader sees them."""
    return shown(raw_notices(at))


OUT_OF_RANGE = [
    ("learning_rate", 20000),
    ("batch_size", 5000),
    ("seed", 3_000_000_000),
    ("weight_decay", 20),
    ("clip_norm", 1e7),
    ("epochs", 0),
    ("early_stopping", -3),
    ("init_std", 0),
    ("loss", "hinge"),
    ("optimizer", "lbfgs"),
]


@pytest.mark.parametrize("name, value", OUT_OF_RANGE)
def test_an_out_of_range_value_falls_back_to_its_default_with_a_notice(name, value):
    at = open_with(**{name: value})
    assert getattr(config(at), name) == getattr(DEFAULT, name)
    assert name in notices(at) and str(value).replace("e+07", "") in notices(at).replace(",", "")


@pytest.mark.parametrize(
    "layers", ["dense100000-dense100000", "dense4096-dense4096-dense4096-dense4096", "conv512k15-conv512k15"]
)
def test_a_network_over_the_budget_is_not_built_from_a_link(layers):
    at = open_with(layers=layers)
    assert config(at).layers == DEFAULT.layers
    assert "layers" in notices(at)
    assert at.session_state["bp.model"].net.n_parameters <= limits.NETWORK_PARAMETERS.value()


def test_a_batch_whose_values_pass_the_budget_is_not_built_from_a_link():
    # 31,000 parameters, but 256 images through two wide convolutions keep about 0.9 GB of values
    at = open_with(dataset="shapes", layers="conv64k3-conv64k3-flatten", batch_size=256)
    assert config(at).layers == DEFAULT.layers
    assert limits.BATCH_BYTES.env in notices(at) and "smaller batch size" in notices(at)


def test_older_layout_hidden_sizes_over_the_budget_fall_back_too():
    at = open_with(hidden=[6000, 6000])
    assert config(at).layers == DEFAULT.layers and "hidden" in notices(at)


@pytest.mark.parametrize("name", [option.name for option in OPTIONS if option.kind in ("text", "choice")])
@pytest.mark.parametrize(
    "value",
    [
        "x" * 10_000,
        "[click](https://example.com) <img src=x onerror=alert(1)>",
        "/etc/passwd",
        "../../../../root",
    ],
)
def test_text_from_a_link_is_refused_or_shown_as_plain_text(name, value):
    at = open_with(**{name: value})
    assert getattr(config(at), name) == getattr(DEFAULT, name)
    assert name in notices(at)
    # Markdown in a notice arrives escaped: no link, image or HTML can come from a link
    raw = raw_notices(at)
    assert "](https" not in raw and re.search(r"(?<!\\)<img", raw) is None
    if "<img" in value:
        assert value[:40] in notices(at)


def test_dataset_parameters_from_a_link_are_checked_against_the_datasets_declarations():
    at = open_with(dataset="shapes", dataset_params={"samples": 10**9, "size": 64, "shapes": "circle square"})
    assert config(at).dataset == "shapes"
    assert "samples" not in config(at).dataset_params and "samples" in notices(at)


def test_a_link_cannot_name_a_folder_on_the_server(tmp_path):
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
    at = open_with(dataset="folder", dataset_params={"path": str(tmp_path)})
    assert "path" not in config(at).dataset_params
    assert "names files on the server" in notices(at)
    # without a folder set by the server's owner there is nothing to load: a message, no exception
    assert any("BACKPROP_IMAGE_FOLDER" in shown(e.value) for e in at.error)


def test_unreadable_json_and_unknown_settings_are_reported():
    at = open_with(learning_rate="{not json", shoe_size="44")
    assert "learning_rate" in notices(at) and config(at).learning_rate == DEFAULT.learning_rate


def test_a_dataset_cache_over_its_budget_drops_the_oldest(monkeypatch):
    from ui.data import CACHE, _build

    CACHE.clear()
    monkeypatch.setenv(limits.DATASET_CACHE_BYTES.env, "12K")  # each 2-D set is 8,000 bytes
    _build("circle", {})
    _build("xor", {})
    assert CACHE.get("circle", "{}") is None and CACHE.get("xor", "{}") is not None
    assert CACHE.held_bytes() <= 12 * 1024
    big = datasets.load("circle", samples=20_000)
    CACHE.put("circle", '{"samples": 20000}', big)  # larger than the whole budget: kept alone
    assert CACHE.get("circle", '{"samples": 20000}') is big and CACHE.get("xor", "{}") is None
    CACHE.clear()


def test_a_session_keeps_no_data_of_its_own():
    # Sessions (open, or closed and not yet expired) hold their dataset only through the shared cache,
    # so the cache's budget is what datasets cost however many sessions there are.
    from ui.data import CACHE

    at = open_with(dataset="xor")
    model = at.session_state["bp.model"]
    assert not any(isinstance(value, datasets.Dataset) for value in vars(model).values())
    assert model.dataset is CACHE.get("xor", "{}")
    CACHE.clear()  # dropped from the cache: the session's next use builds the same data again
    assert model.dataset is not None and model.dataset.n_train > 0


def test_a_link_to_a_picture_set_is_checked_against_its_declarations_before_a_picture_is_read(monkeypatch):
    # The sidebar is drawn from the checked link; building Fashion-MNIST waits until the network is.
    from ui import session

    read = []
    monkeypatch.setattr(session, "try_load_dataset", lambda *args: read.append(args) or (None, "unread"))
    too_wide, notes = session.config_from_query(
        {"dataset": '"fashion-mnist"', "layers": '"dense100000-dense100000"'}
    )
    fits, none = session.config_from_query({"dataset": '"digits"', "layers": '"dense32-relu"'})
    assert too_wide.layers == DEFAULT.layers and "layers" in " ".join(notes)
    assert fits.layers == "dense32-relu" and not none
    assert read == []
