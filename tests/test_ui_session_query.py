"""The address bar holds the sidebar's settings: written as a whole, once per change."""

import json
import types

from backprop.config import RunConfig
from ui import session


class FakeQueryParams:
    """What write_query uses of ``st.query_params``, counting the writes (each is a message to the browser)."""

    def __init__(self, params: dict[str, str]):
        self.params = dict(params)
        self.writes = 0

    def to_dict(self) -> dict[str, str]:
        return dict(self.params)

    def from_dict(self, params: dict[str, str]) -> None:
        self.params = dict(params)
        self.writes += 1

    def __setitem__(self, key, value):
        self.params[key] = value
        self.writes += 1

    def __delitem__(self, key):
        del self.params[key]
        self.writes += 1


def use(monkeypatch, params: dict[str, str]) -> FakeQueryParams:
    fake = FakeQueryParams(params)
    monkeypatch.setattr(session, "st", types.SimpleNamespace(query_params=fake))
    return fake


def test_a_change_of_several_settings_is_one_write_that_keeps_other_parameters(monkeypatch):
    old = RunConfig(dataset="circle", layers="dense8-relu", learning_rate=0.1)
    fake = use(monkeypatch, {**old.to_query(), "seed": json.dumps(3), "utm_source": "mail"})
    new = RunConfig(dataset="digits", layers="dense64-relu", batch_size=64)

    session.write_query(new)

    assert fake.writes == 1
    assert fake.params == {**new.to_query(), "utm_source": "mail"}  # the old seed and rate are gone
    assert json.loads(fake.params["dataset"]) == "digits"


def test_settings_already_in_the_address_are_not_written_again(monkeypatch):
    config = RunConfig(dataset="digits", layers="dense64-relu")
    fake = use(monkeypatch, {"utm_source": "mail", **config.to_query()})

    session.write_query(config)

    assert fake.writes == 0
