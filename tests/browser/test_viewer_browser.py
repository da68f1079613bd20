"""The inspector page in real headless Chromium (Debian's ``chromium``), against a real server.

One browser for the module; each test opens its own page. Box positions are checked on
screenshots against the image content itself: the fixture scan has a white block exactly where
its ivory box is, so "the box is drawn where it belongs" needs no knowledge of the page's zoom.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.unit.viewer.results_factory import KNOWN_BOX, standard_folder
from wildxray.viewer import auth
from wildxray.viewer.app import ViewerApp
from wildxray.viewer.db import read_audit_log
from wildxray.viewer.feedback import export_feedback
from wildxray.viewer.server import serve_in_thread

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip("headless tests need Debian's chromium package (/usr/bin/chromium is absent)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IVORY = (0xE6, 0x9F, 0x00)   # Okabe-Ito orange: class 1
BONE = (0x00, 0x72, 0xB2)    # Okabe-Ito blue: class 5
ALARM_FIRST = ["scan-dual", "scan-evil", "scan-known", "scan-old-alarm", "scan-error", "scan-clear"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    standard_folder(root / "out")
    app = ViewerApp(root / "out", root / "v.sqlite", rescan_interval_s=0)
    token = auth.add_inspector(app.db, "alice")
    srv, _ = serve_in_thread(app)
    yield {"app": app, "url": f"http://127.0.0.1:{srv.server_port}/", "token": token, "root": root}
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser, server):
    """A logged-in page; ``page.problems`` collects console errors and uncaught exceptions."""
    context = browser.new_context(viewport={"width": 1400, "height": 820})
    pg = context.new_page()
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    pg.goto(server["url"])
    pg.fill("#token", server["token"])
    pg.press("#token", "Enter")
    pg.wait_for_selector("#queue li")
    pg.problems = problems
    yield pg
    context.close()


def open_scan(pg, scan_id: str) -> None:
    pg.click(f"#queue li[data-scan='{scan_id}']")
    pg.wait_for_function("(id) => document.getElementById('scan-title').textContent === id", arg=scan_id)


def view_rgb(pg) -> np.ndarray:
    """Screenshot of the canvas as HxWx3 uint8 RGB."""
    png = pg.locator("#view").screenshot()
    return cv2.cvtColor(cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def colour_mask(rgb: np.ndarray, colour: tuple[int, int, int], tol: int = 40) -> np.ndarray:
    return np.abs(rgb.astype(int) - np.array(colour)).sum(axis=2) < tol


def white_block(rgb: np.ndarray) -> tuple[int, int, int, int]:
    """Screen bbox (x1, y1, x2, y2) of the fixture's white block."""
    ys, xs = np.nonzero((rgb >= 235).all(axis=2))
    assert len(xs) > 100, "the white block is not on screen"
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def assert_box_on_block(rgb: np.ndarray, tol: int = 4) -> None:
    """The ivory outline runs along the white block's left, right and bottom edges, and nowhere else
    below its top edge (the label sits above it)."""
    x1, y1, x2, y2 = white_block(rgb)
    ivory = colour_mask(rgb, IVORY)
    left = ivory[y1:y2, max(0, x1 - tol):x1 + tol].any(axis=1).mean()
    right = ivory[y1:y2, x2 - tol:x2 + tol + 1].any(axis=1).mean()
    bottom = ivory[y2 - tol:y2 + tol + 1, x1:x2].any(axis=0).mean()
    assert min(left, right, bottom) > 0.9, (left, right, bottom)
    ys, xs = np.nonzero(ivory[y1 + 1:])
    near = ((np.abs(xs - x1) <= tol) | (np.abs(xs - x2) <= tol) | (np.abs(ys + y1 + 1 - y2) <= tol)
            | (np.abs(ys + y1 + 1 - y1) <= tol))
    assert near.all(), f"{(~near).sum()} ivory pixels away from the box"


def test_page_loads_clean_and_lists_alarm_first(page) -> None:
    order = page.eval_on_selector_all("#queue li", "els => els.map(e => e.dataset.scan)")
    assert order == ALARM_FIRST
    counts = dict(page.eval_on_selector_all("#counts li", "els => els.map(e => [e.dataset.count, e.textContent])"))
    assert counts["alarm"] == "4 alarm" and counts["total"] == "6 total" and counts["error"] == "1 error"
    page.select_option("#f-decision", "clear")
    page.wait_for_function("() => document.querySelectorAll('#queue li').length === 1")
    assert page.get_attribute("#queue li", "data-scan") == "scan-clear"
    assert page.problems == []


def test_known_box_is_drawn_on_its_object_and_follows_zoom_and_pan(page) -> None:
    open_scan(page, "scan-known")
    rgb = view_rgb(page)
    assert_box_on_block(rgb)
    x1, _, x2, _ = white_block(rgb)
    box = page.locator("#view").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -300)           # zoom in at the centre
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 - 60, box["y"] + box["height"] / 2 - 40, steps=4)
    page.mouse.up()                     # and pan
    zoomed = view_rgb(page)
    zx1, _, zx2, _ = white_block(zoomed)
    assert zx2 - zx1 > 1.3 * (x2 - x1)
    assert_box_on_block(zoomed)
    page.keyboard.press("0")            # fit again
    assert white_block(view_rgb(page)) == white_block(rgb)
    assert page.problems == []


def test_threshold_slider_and_class_toggle_hide_boxes(page) -> None:
    open_scan(page, "scan-known")
    assert colour_mask(view_rgb(page), IVORY).sum() > 200 and colour_mask(view_rgb(page), BONE).sum() > 100
    slider = page.locator("#threshold").bounding_box()
    # Click the slider at 95 %: above ivory's 0.91, so both boxes go.
    page.mouse.click(slider["x"] + 0.95 * slider["width"], slider["y"] + slider["height"] / 2)
    assert float(page.input_value("#threshold")) > 0.91
    rgb = view_rgb(page)
    assert colour_mask(rgb, IVORY).sum() == 0 and colour_mask(rgb, BONE).sum() == 0
    page.mouse.click(slider["x"] + 0.75 * slider["width"], slider["y"] + slider["height"] / 2)
    assert 0.62 < float(page.input_value("#threshold")) < 0.91
    rgb = view_rgb(page)
    assert colour_mask(rgb, IVORY).sum() > 200 and colour_mask(rgb, BONE).sum() == 0
    page.keyboard.press("o")            # back to the operating point
    page.uncheck("#class-toggles input[data-class='ivory']")
    rgb = view_rgb(page)
    assert colour_mask(rgb, IVORY).sum() == 0 and colour_mask(rgb, BONE).sum() > 100
    page.keyboard.press("Shift+Digit1")  # the keyboard shows it again
    assert colour_mask(view_rgb(page), IVORY).sum() > 200
    assert page.problems == []


def test_display_modes_change_pixels(page) -> None:
    open_scan(page, "scan-known")
    x1, y1, x2, y2 = white_block(view_rgb(page))
    page.keyboard.press("3")            # negative: the white block turns black
    neg = view_rgb(page)[y1 + 6:y2 - 6, x1 + 6:x2 - 6]
    assert neg.max() < 20
    open_scan(page, "scan-dual")
    modes = page.eval_on_selector_all("#modes button", "els => els.map(e => e.dataset.mode)")
    assert modes == ["colour", "grey", "negative", "edge", "high", "low"]
    page.keyboard.press("5")
    high = view_rgb(page).astype(float).mean()
    page.keyboard.press("6")            # the fixture's low view is half the high view
    low = view_rgb(page).astype(float).mean()
    assert low < 0.75 * high
    page.keyboard.press("4")
    assert page.get_attribute("#modes button.on", "data-mode") == "edge"
    assert page.problems == []


def test_verdicts_survive_reload_and_reach_the_export(page, server, tmp_path: Path) -> None:
    open_scan(page, "scan-known")
    page.keyboard.press("n")            # select the first box (ivory)
    page.keyboard.press("c")            # confirm it; the selection moves on to the bone box
    page.wait_for_function("() => document.querySelector(\"#detections li[data-item='det:0'] .dverdict\").textContent === 'confirm'")
    page.keyboard.press("x")            # reject the bone box
    page.wait_for_function("() => document.querySelector(\"#detections li[data-item='det:1'] .dverdict\").textContent === 'reject'")
    # Draw a missed box over image pixels (200,150)-(260,200): the white block (100..180 wide)
    # gives the screen scale.
    x1, y1, x2, y2 = white_block(view_rgb(page))
    canvas = page.locator("#view").bounding_box()
    s = (x2 - x1 + 1) / (KNOWN_BOX[2] - KNOWN_BOX[0])
    to_screen = lambda x, y: (canvas["x"] + x1 + (x - KNOWN_BOX[0]) * s, canvas["y"] + y1 + (y - KNOWN_BOX[1]) * s)  # noqa: E731
    page.keyboard.press("b")
    page.mouse.move(*to_screen(200, 150))
    page.mouse.down()
    page.mouse.move(*to_screen(260, 200), steps=5)
    page.mouse.up()
    page.wait_for_selector("#picker:not([hidden])")
    page.keyboard.press("4")            # skin
    page.wait_for_selector("#detections li[data-item^='add:']")
    page.keyboard.press("a")            # parcel: contraband
    page.wait_for_function("() => document.getElementById('parcel-state').textContent.startsWith('contraband')")
    page.reload()
    page.wait_for_function("() => document.getElementById('scan-title').textContent === 'scan-known'")
    assert page.text_content("#detections li[data-item='det:0'] .dverdict") == "confirm"
    assert page.text_content("#parcel-state").startswith("contraband — alice")
    assert page.text_content("#queue li[data-scan='scan-known'] .qstate") == "✓ contraband"

    summary = export_feedback(server["app"].db, server["root"] / "out", tmp_path / "fb")
    coco = json.loads((tmp_path / "fb" / "annotations.json").read_text())
    ids = [i["id"] for i in coco["images"] if i["scan_id"] == "scan-known"]
    assert len(ids) == 1, summary.skipped
    image_id = ids[0]
    anns = [a for a in coco["annotations"] if a["image_id"] == image_id]
    ivory = [a for a in anns if a["category_id"] == 1]
    assert [a["bbox"] for a in ivory] == [[100.0, 60.0, 80.0, 80.0]] and ivory[0]["inspector"] == "alice"
    skin = [a for a in anns if a["category_id"] == 4]
    assert len(skin) == 1 and np.allclose(skin[0]["bbox"], [200, 150, 60, 50], atol=2.5), skin
    negatives = [n for n in coco["hard_negatives"] if n["image_id"] == image_id]
    assert [(n["category_id"], n["bbox"]) for n in negatives] == [(5, [20.0, 20.0, 40.0, 30.0])]
    assert page.problems == []


def test_script_in_names_and_labels_is_shown_as_text(page) -> None:
    open_scan(page, "scan-evil")
    assert page.text_content("#scan-source") == "<script>window.__pwned=2</script>.png"
    assert page.text_content("#detections li span:nth-child(2)") == "<script>window.__pwned=1</script>"
    assert "<script>window.__pwned=2</script>.png" in page.text_content("#queue li[data-scan='scan-evil']")
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("document.querySelectorAll('script').length") == 1   # only the page's own module
    assert page.problems == []


def test_requests_without_login_or_csrf_are_refused(browser, page, server) -> None:
    anonymous = browser.new_context()
    try:
        resp = anonymous.request.get(server["url"] + "api/scans")
        assert resp.status == 401
        resp = anonymous.request.get(server["url"] + "api/scans/scan-known/view/image")
        assert resp.status == 401
    finally:
        anonymous.dispose() if hasattr(anonymous, "dispose") else anonymous.close()
    before = len(read_audit_log(server["app"].db, "scan-clear"))
    status = page.evaluate("""() => fetch('api/scans/scan-clear/parcel', {method: 'POST',
        headers: {'Content-Type': 'application/json'}, body: JSON.stringify({verdict: 'contraband'})}).then(r => r.status)""")
    assert status == 403
    assert len(read_audit_log(server["app"].db, "scan-clear")) == before


def test_a_locked_out_login_says_so_on_the_page(browser, tmp_path: Path) -> None:
    """After the throttle's limit of wrong tokens the form shows the lockout, and the right token
    does not get in until it ends (the page itself, not only the API)."""
    from wildxray.viewer.throttle import DEFAULT_MAX_FAILURES

    standard_folder(tmp_path / "out")
    app = ViewerApp(tmp_path / "out", tmp_path / "v.sqlite", rescan_interval_s=0)
    token = auth.add_inspector(app.db, "bob")
    srv, _ = serve_in_thread(app)
    context = browser.new_context()
    try:
        pg = context.new_page()
        pg.goto(f"http://127.0.0.1:{srv.server_port}/")
        for i in range(DEFAULT_MAX_FAILURES):
            pg.fill("#token", f"wrong-token-{i:04d}")
            pg.press("#token", "Enter")
            pg.wait_for_function("() => document.getElementById('login-error').textContent === 'invalid token'")
            pg.evaluate("() => { document.getElementById('login-error').textContent = ''; }")
        pg.fill("#token", token)
        pg.press("#token", "Enter")
        pg.wait_for_function("() => document.getElementById('login-error').textContent.startsWith('too many failed logins')")
        assert pg.is_visible("#login") and not pg.is_visible("#queue li")
        assert [e["action"] for e in read_audit_log(app.db)].count("login_failed") == DEFAULT_MAX_FAILURES
    finally:
        context.close()
        srv.shutdown()
        srv.server_close()
