"""The step-through page in Chromium: stepping happens in the browser, clicks explain cells."""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.harness import (
    ARTIFACTS_DIR,
    PAGE_TIMEOUT_MS,
    assert_no_exception,
    expect_tab,
    go_to,
    open_page,
    open_tab,
    screenshot,
    wait_for_app,
)

pytestmark = pytest.mark.browser

PLAYER = "[data-testid='stBidiComponentIsolated']"


def assert_no_page_not_found(page):
    """A direct link to this page must open it without Streamlit's "Page not found" dialog."""
    expect(page.get_by_role("dialog").filter(has_text="Page not found")).to_have_count(0)


def player(page):
    """The step player's root element (inside the component's shadow root)."""
    return page.locator(PLAYER).locator(".bp-player")


def watch_websocket(page):
    """A list that collects every frame the page sends to the server from now on."""
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    return sent


def open_step_page(browser, app_server, query="", viewport=(1500, 1300)):
    page = open_page(browser, f"{app_server}/step_through{query}", viewport=viewport)
    assert_no_page_not_found(page)
    expect(player(page)).to_have_attribute("data-phase", "0")
    return page


def script_state(page):
    return page.locator("[data-testid='stApp']").get_attribute("data-test-script-state")


def test_phases_step_forward_and_back_in_the_browser_alone(browser, app_server):
    page = browser.new_page(viewport={"width": 1500, "height": 1300})
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    sent = watch_websocket(page)
    try:
        page.goto(f"{app_server}/step_through?optimizer=%22sgd%22", wait_until="domcontentloaded")
        wait_for_app(page)
        root = player(page)
        expect(root).to_have_attribute("data-phase", "0")
        page.get_by_text("Train", exact=True).click()  # the step's update joins its phases
        wait_for_app(page)
        expect(root.locator(".bp-chip").last).to_have_text("Update")
        labels = root.locator(".bp-chip").all_inner_texts()
        assert labels == ["Ready", "Forward 1", "Forward 2", "Forward 3", "Loss"] + [
            "Backward 3",
            "Backward 2",
            "Backward 1",
            "Update",
        ]
        before = len(sent)
        nxt, back = root.locator("[data-action=next]"), root.locator("[data-action=back]")
        for k in range(1, len(labels)):
            nxt.click()
            expect(root).to_have_attribute("data-phase", str(k))
            expect(root.locator(".bp-where")).to_contain_text(labels[k])
            assert script_state(page) == "notRunning"
            screenshot(page, f"step_through_circle_{k}_{labels[k].replace(' ', '_').lower()}")
        expect(root.locator(".bp-eq")).to_contain_text("ΔP = −η·g")
        for k in range(len(labels) - 2, -1, -1):
            back.click()
            expect(root).to_have_attribute("data-phase", str(k))
        expect(root.locator(".bp-eq")).to_contain_text("before any data flows")
        root.locator(".bp-slider").fill("4")
        expect(root).to_have_attribute("data-phase", "4")
        assert len(sent) == before, "stepping through the phases sent a message to the server"
        assert script_state(page) == "notRunning"
        assert_no_exception(page)
    finally:
        page.close()


def test_the_view_open_under_the_player_survives_a_visit_to_another_page(browser, app_server):
    page = open_step_page(browser, app_server)
    try:
        open_tab(page, "Diagnostics")
        go_to(page, "Home")
        go_to(page, "Step through")
        expect_tab(page, "Diagnostics")
        assert_no_exception(page)
    finally:
        page.close()


def test_gradients_wait_for_their_phase(browser, app_server):
    page = open_step_page(browser, app_server)
    try:
        root = player(page)
        # Ready: layer 1's gradients are placeholders, not numbers
        pending = root.locator(".bp-card.pending[data-tensor='dW']")
        expect(pending).to_contain_text("not computed yet")
        for _ in range(7):  # Forward 1 … 3, Loss, Backward 3 … 1
            root.locator("[data-action=next]").click()
        expect(root).to_have_attribute("data-phase", "7")
        expect(root.locator(".bp-card[data-tensor='dW'] canvas").first).to_be_visible()
        expect(root.locator(".bp-card.pending[data-tensor='dW']")).to_have_count(0)
    finally:
        page.close()


def test_clicking_a_weight_shows_its_worked_numbers(browser, app_server):
    page = open_step_page(browser, app_server)
    try:
        root = player(page)
        root.locator(".bp-chip", has_text="Backward 1").click()
        expect(root.locator(".bp-focus-title")).to_contain_text("Layer 1 of 3")
        canvas = root.locator(".bp-card[data-tensor='W'] canvas").first
        box = canvas.bounding_box()
        # the first W card is W¹ (2×8): labels take 44 px on the left and 16 px on top
        cell_w = (box["width"] - 44) / 8
        canvas.click(position={"x": 44 + cell_w * 3.5, "y": 16 + 10})
        wait_for_app(page)
        main = page.locator("[data-testid='stMain']")
        expect(main.get_by_text(re.compile(r"^W¹\[0, 3\] = "))).to_be_visible()
        line = main.get_by_text(re.compile(r"^dW¹\[0,3\] = Σₙ a_in\[n,0\]·dz\[n,3\]")).inner_text()
        total, traced = re.search(r"samples = (\S+) \(trace: (\S+)\)", line).groups()
        assert total == traced
        assert main.get_by_role("tab", name="Cell inspector").get_attribute("aria-selected") == "true"
        # the inspector answers as at the phase the player was at
        expect(page.get_by_role("combobox", name="As at phase")).to_have_value("Backward 1")
        assert_no_exception(page)
        screenshot(page, "step_through_inspector")
    finally:
        page.close()


def test_play_reaches_the_end_and_full_step_brings_a_new_batch(browser, app_server):
    page = open_step_page(browser, app_server)
    try:
        root = player(page)
        step = root.get_attribute("data-step")
        root.locator("[data-action=speed]").select_option(label="4×")
        root.locator("[data-action=play]").click()
        expect(root).to_have_attribute("data-phase", "7", timeout=10_000)
        expect(root.locator("[data-action=play]")).to_have_text("▶ Play")
        page.get_by_role("button", name="Full step", exact=True).click()
        wait_for_app(page)
        expect(root).not_to_have_attribute("data-step", step)
        expect(page.get_by_text(re.compile(r"Random batch of 32 training rows \(draw 2\)"))).to_be_visible()
        # Next at the end of a step asks the server for the next one
        step = root.get_attribute("data-step")
        root.locator("[data-action=next]").click()
        wait_for_app(page)
        expect(root).not_to_have_attribute("data-step", step)
        expect(root).to_have_attribute("data-phase", "1")
        assert_no_exception(page)
    finally:
        page.close()


def test_a_full_step_draws_into_the_canvases_of_the_step_before(browser, app_server):
    page = open_step_page(browser, app_server)
    try:
        root = player(page)
        root.locator(".bp-chip", has_text="Backward 1").click()
        gradient = root.locator(".bp-card[data-tensor='dW'] .draw canvas").first
        before = gradient.evaluate("c => c.toDataURL()")
        first = int(root.get_attribute("data-canvases-made"))
        step = root.get_attribute("data-step")
        page.get_by_role("button", name="Full step", exact=True).click()
        wait_for_app(page)
        expect(root).not_to_have_attribute("data-step", step)
        expect(root.locator(".bp-focus-title")).to_contain_text("Layer 1 of 3")
        # the first step's screen made its canvases; the new batch's screen, the same cards, made none
        assert first > 0 and root.locator(".bp-card canvas").count() == 16
        assert root.get_attribute("data-canvases-made") == "0"
        assert gradient.evaluate("c => c.toDataURL()") != before  # showing the new batch
        click_cell(gradient, (1, 2))  # whose cells explain the new step
        wait_for_app(page)
        main = page.locator("[data-testid='stMain']")
        line = main.get_by_text(re.compile(r"^dW¹\[1,2\] = Σₙ a_in\[n,1\]·dz\[n,2\]")).inner_text()
        total, traced = re.search(r"samples = (\S+) \(trace: (\S+)\)", line).groups()
        assert total == traced
        assert_no_exception(page)
    finally:
        page.close()


@pytest.mark.parametrize(
    "name,query",
    [
        ("digits", '?dataset="digits"&layers="dense32-gelu-dense16-gelu"'),
        ("sequences", '?dataset="sequences"'),
    ],
)
def test_every_phase_reads_on_image_and_sequence_data(browser, app_server, name, query):
    page = open_step_page(browser, app_server, query)
    try:
        root = player(page)
        count = root.locator(".bp-chip").count()
        screenshot(page, f"step_through_{name}_0_ready")
        for k in range(1, count):
            root.locator("[data-action=next]").click()
            expect(root).to_have_attribute("data-phase", str(k))
            label = root.locator(".bp-chip").nth(k).inner_text()
            page.screenshot(
                path=str(ARTIFACTS_DIR / f"step_through_{name}_{k}_{label.replace(' ', '_').lower()}.png")
            )
        assert_no_exception(page)
    finally:
        page.close()


def test_bad_link_value_falls_back_with_a_notice(browser, app_server):
    page = open_page(browser, f"{app_server}/step_through?layers=%22dense4-swish%22")
    try:
        assert_no_page_not_found(page)
        expect(page.get_by_text("layers='dense4-swish' is not valid").first).to_be_visible()
        expect(page.get_by_role("heading", name="Step through one training step")).to_be_visible()
        assert_no_exception(page)
    finally:
        page.close()


def test_the_sidebars_dataset_parameters_are_drawn_when_opened_and_change_the_data(browser, app_server):
    page = open_step_page(browser, app_server)
    try:
        sidebar = page.locator("[data-testid='stSidebar']")
        seed = sidebar.get_by_label("Data seed", exact=True)
        expect(seed).to_have_count(0)  # closed: not drawn
        sidebar.get_by_text("Dataset parameters", exact=True).click()
        expect(seed).to_be_visible()
        seed.fill("7")
        seed.press("Enter")
        expect(page).to_have_url(re.compile(r"dataset_params=.*seed.*7"))
        sidebar.get_by_text("Dataset parameters", exact=True).click()
        expect(seed).to_have_count(0)
        wait_for_app(page)
        page.reload()
        wait_for_app(page)
        expect(page).to_have_url(re.compile(r"dataset_params=.*seed.*7"))  # closed, the data stay as set
        page.locator("[data-testid='stSidebar']").get_by_text("Dataset parameters", exact=True).click()
        expect(page.locator("[data-testid='stSidebar']").get_by_label("Data seed", exact=True)).to_have_value(
            "7"
        )
        assert_no_exception(page)
    finally:
        page.close()


def test_stop_keeps_the_steps_already_trained(browser, app_server):
    page = open_page(browser, f"{app_server}/step_through?layers=%22dense8-gelu%22")
    try:
        assert_no_page_not_found(page)
        page.get_by_label("Steps to run", exact=True).fill("100000")
        page.get_by_label("Steps to run", exact=True).press("Enter")
        wait_for_app(page)
        page.get_by_role("button", name="Run 100000 steps").click()
        expect(page.get_by_text("Training", exact=False).first).to_be_visible()
        stop = page.get_by_role("button", name="Stop", exact=True)
        expect(stop).to_be_visible()
        expect(page.locator("[data-testid='stProgress']")).to_contain_text("steps")
        stop.click()
        wait_for_app(page)
        expect(page.get_by_text("Stopped after")).to_be_visible()
        assert_no_exception(page)
    finally:
        page.close()


def click_cell(canvas, index):
    """Click the cell at ``index`` of a card's canvas: (row, col) of a matrix, (a, b, y, x) of maps."""
    geometry = json.loads(canvas.locator("xpath=..").get_attribute("data-geometry"))
    if "tiles" in geometry:
        a, b, y, x = index
        columns = int(canvas.get_attribute("data-columns"))
        origin = geometry["tiles"][a * columns + b]
        px = geometry["px"]
        canvas.click(position={"x": origin["x"] + (x + 0.5) * px, "y": origin["y"] + (y + 0.5) * px})
    else:
        r, c = index
        canvas.click(
            position={
                "x": geometry["x"] + (c + 0.5) * geometry["cw"],
                "y": geometry["y"] + (r + 0.5) * geometry["ch"],
            }
        )


def walk_every_phase(page, root, name):
    """Next ▸ through every phase, in the browser alone, with a screenshot of each."""
    labels = root.locator(".bp-chip").all_inner_texts()
    screenshot(page, f"step_through_{name}_00_ready")
    for k in range(1, len(labels)):
        root.locator("[data-action=next]").click()
        expect(root).to_have_attribute("data-phase", str(k))
        assert script_state(page) == "notRunning"
        slug = re.sub(r"[^a-z0-9]+", "_", labels[k].lower()).strip("_")
        screenshot(page, f"step_through_{name}_{k:02d}_{slug}")
    return labels


def show_inspector(page):
    """Scroll the page so the cell inspector's tabs are at the top of the window, for a screenshot."""
    tab = page.locator("[data-testid='stMain']").get_by_role("tab", name="Cell inspector")
    tab.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(200)


def worked_total(page, prefix):
    """(the sum the inspector wrote, the trace's value beside it) on the line starting with prefix."""
    main = page.locator("[data-testid='stMain']")
    line = main.get_by_text(re.compile("^" + re.escape(prefix))).first.inner_text()
    return re.search(r"= (\S+) \(trace: (\S+)\)", line).groups()


def test_a_conv_network_steps_through_its_maps_and_explains_a_kernel_weight(browser, app_server):
    page = open_step_page(
        browser, app_server, '?dataset="digits"&layers="conv8k3-relu-maxpool2-flatten"', viewport=(1500, 2400)
    )
    try:
        root = player(page)
        labels = walk_every_phase(page, root, "conv")
        assert labels == ["Ready", "Forward 1", "Forward 2", "Loss", "Backward 2", "Backward 1"]
        root.locator(".bp-chip", has_text="Backward 1").click()
        expect(root.locator(".bp-focus-title")).to_contain_text("convolution · 8 kernels 1×3×3")
        expect(
            root.locator(".section", has_text="The backward pass as it is computed (im2col)")
        ).to_be_visible()
        for key in ("z", "pooled", "switches", "dW", "dz", "cols", "dY", "dK_matrix"):
            expect(root.locator(f".bp-card[data-tensor='{key}'] .draw canvas").first).to_be_visible()
        kernels = root.locator(".bp-card[data-tensor='dW'] .draw canvas").first
        click_cell(kernels, (5, 0, 2, 1))
        wait_for_app(page)
        main = page.locator("[data-testid='stMain']")
        expect(main.get_by_text(re.compile(r"^K¹\[5,0,2,1\] = "))).to_be_visible()
        total, traced = worked_total(page, "dK¹[5,0,2,1] = Σ over samples n and output positions")
        assert total.strip("*") == traced
        expect(page.get_by_role("combobox", name="As at phase")).to_have_value("Backward 1")
        assert_no_exception(page)
        show_inspector(page)
        screenshot(page, "step_through_conv_kernel_inspector")
    finally:
        page.close()


def test_a_transformer_walks_attention_and_explains_an_attention_weights_jacobian(browser, app_server):
    query = (
        '?dataset="sequences"&dataset_params={"encoding":"embedding"}'
        '&layers="embed16-pos-res-ln-attn2-add-last"'
    )
    page = open_step_page(browser, app_server, query, viewport=(1500, 2400))
    try:
        root = player(page)
        labels = walk_every_phase(page, root, "attention")
        stages = ["Q, K, V", "scores", "softmax", "weighted sum", "output"]
        assert labels[2:7] == [f"Forward 2 · {s}" for s in stages]
        assert labels[10:15] == [f"Backward 2 · {s}" for s in reversed(stages)]
        root.locator(".bp-chip", has_text="Backward 2 · softmax").click()
        expect(root.locator(".bp-focus-title")).to_contain_text("causal self-attention · 2 heads of 8")
        expect(root.locator(".bp-card.current[data-tensor='d_scores']")).to_have_count(1)
        weights = root.locator(".bp-card[data-tensor='weights'] .draw canvas").first
        click_cell(weights, (0, 1, 2, 0))  # head 1, query 2, key 0
        wait_for_app(page)
        main = page.locator("[data-testid='stMain']")
        expect(main.get_by_text(re.compile(r"^Σₖ a\[2,k\]·dA\[2,k\] over the row"))).to_be_visible()
        total, traced = worked_total(page, "dscore[2,0] = a·(dA − Σ)")
        assert total.strip("*") == traced
        expect(page.get_by_role("combobox", name="As at phase")).to_have_value("Backward 2 · softmax")
        assert_no_exception(page)
        show_inspector(page)
        screenshot(page, "step_through_attention_inspector")
    finally:
        page.close()
