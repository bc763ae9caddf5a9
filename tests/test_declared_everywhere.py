"""An option declared once appears everywhere: the sidebar, the command line, runs, links and the step's equations."""

import pytest
from streamlit.testing.v1 import AppTest

from backprop import OPTIMIZERS, RunConfig
from backprop.cli import build_parser, config_from_args, train_command
from viz.step_text import update_rule

STEP_PAGE = "../pages/step_through.py"


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_reaches_the_cli_runs_links_and_the_step_equations(name):
    declared = OPTIMIZERS[name]
    words = ["train", "--dataset", "circle", "--optimizer", name]
    for option in declared.options:
        value = option.default if option.kind != "bool" else not option.default
        words += [option.flag, str(value).lower() if option.kind == "bool" else str(value)]
    config = config_from_args(build_parser().parse_args(words))
    assert config.optimizer == name
    # the command the app shows recreates it, and a link carries it
    again = config_from_args(build_parser().parse_args(train_command(config).split()[3:]))
    assert again == config
    assert RunConfig.from_query(config.to_query()) == (config, [])
    # the step-through writes its rule as the optimizer declares it
    assert declared.equation.split(";")[0] in update_rule(name, 0.0, config.optimizer_options)


def test_every_optimizer_and_its_options_are_in_the_sidebar():
    at = AppTest.from_file(STEP_PAGE, default_timeout=60).run()
    assert set(at.selectbox(key="sb.optimizer").options) >= {d.label for d in OPTIMIZERS.values()}
    for name, declared in OPTIMIZERS.items():
        at.selectbox(key="sb.optimizer").set_value(name).run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        for option in declared.options:
            keys = {w.key for w in at.sidebar.number_input} | {w.key for w in at.sidebar.checkbox}
            assert f"sb.opt.{name}.{option.name}" in keys
        assert at.session_state["bp.config"].optimizer == name


def test_the_random_shift_is_offered_in_the_sidebar_for_image_data_only():
    at = AppTest.from_file(STEP_PAGE, default_timeout=60).run()
    assert "sb.augment_shift" not in {w.key for w in at.sidebar.number_input}  # circle: points
    at.selectbox(key="sb.dataset").set_value("digits").run()
    at.number_input(key="sb.augment_shift").set_value(1).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state["bp.config"].augment_shift == 1
