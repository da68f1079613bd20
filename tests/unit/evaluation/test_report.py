"""The HTML report: self-contained (no URL, inline images, no script), numbers equal the metrics
API's (recall by box attribute included), per-scanner tables with two scanners, text escaped."""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from wildxray.evaluation.evaluate import evaluate, write_outputs
from wildxray.evaluation.report import write_report
from wildxray.types import Detections, coco_categories

NAMES = ("ivory", "horn", "scales")


def make_set(n: int = 60, seed: int = 0, scanners=("rapiscan",)):
    rng = np.random.default_rng(seed)
    images, anns, preds = [], [], {}
    for i in range(1, n + 1):
        images.append({"id": i, "file_name": f"scan_{i}.png", "width": 96, "height": 64, "scanner": scanners[i % len(scanners)]})
        if i % 3 == 0:
            lab = int(rng.integers(0, 3))
            x = float(rng.integers(0, 50))
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": lab + 1, "bbox": [x, 10, 40, 30],
                         "form": f"{NAMES[lab]}/{'whole' if i % 2 else 'piece'}"})
            preds[i] = Detections([[x + rng.normal(0, 2), 10, x + 40, 40]], [rng.uniform(0.3, 1.0)], [lab])
        else:
            preds[i] = Detections([[60, 30, 90, 60]], [rng.uniform(0.0, 0.7)], [int(rng.integers(0, 3))])
    return {"images": images, "annotations": anns, "categories": coco_categories(NAMES)}, preds


def loader(image_id: int) -> np.ndarray:
    return np.full((64, 96, 3), 60 + image_id, np.uint8)


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.cells: dict[str, tuple[str, str]] = {}
        self._key: str | None = None
        self._value: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if "data-key" in a:
            self._key, self._value = a["data-key"], a.get("data-value")

    def handle_data(self, data):
        if self._key is not None:
            self.cells[self._key] = (self._value, data)
            self._key = None


def parse(html_text: str) -> _Collect:
    p = _Collect()
    p.feed(html_text)
    return p


CARD = {"name": "<b>model</b> & co", "classes": list(NAMES), "input_size": 64, "modality": "xray",
        "operating_point": {"thresholds": {"ivory": 0.6, "horn": 0.5, "scales": 0.55}, "calibrated": True,
                            "target_false_alarm_rate": 0.01,
                            "validation": {"false_alarm_rate": 0.01, "detection_rate": 0.8, "n_clean": 300,
                                           "n_contraband": 100, "reason": ""}}}


@pytest.fixture(scope="module")
def result():
    gt, preds = make_set(scanners=("rapiscan", "smiths"))
    return evaluate(gt, preds, NAMES, image_loader=loader, n_bootstrap=200, card=CARD)


def test_report_is_self_contained(result, tmp_path):
    path = write_report(tmp_path / "r" / "report.html", result)
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", text, re.I)
    assert "http://" not in text and "https://" not in text and "<script" not in text.lower()
    p = parse(text)
    imgs = [a for t, a in p.tags if t == "img"]
    plots = [a for a in imgs if a.get("class") == "plot"]
    scans = [a for a in imgs if a.get("class") == "scan"]
    assert len(plots) == 4  # ROC, PR, FROC, confusion matrix
    assert len(scans) == len(result.gallery) > 0
    assert all(a["src"].startswith("data:image/") and ";base64," in a["src"] for a in imgs)
    assert not [t for t, a in p.tags if t in ("link", "iframe", "object", "embed")]


def test_report_numbers_equal_the_metrics_api(result, tmp_path):
    p = parse(write_report(tmp_path / "report.html", result).read_text(encoding="utf-8"))
    m = result.parcel

    def shown(key: str) -> tuple[str, str]:
        raw, text = p.cells[key]
        assert raw is not None, f"{key} has no data-value"
        return raw, text

    raw, text = shown("auc")
    assert float(raw) == m.auc.value and text == f"{m.auc.value:.3f}"
    for fp in m.at_far:
        raw, text = shown(f"far@{fp.target_far:g}")
        assert float(raw) == fp.detection_rate.value and text == f"{100 * fp.detection_rate.value:.1f} %"
    assert float(shown("op_detection_rate")[0]) == m.detection_rate.value
    assert float(shown("op_false_alarm_rate")[0]) == m.false_alarm_rate.value
    assert float(shown("false_alarms_per_100")[0]) == m.false_alarms_per_100_clean.value
    assert float(shown("mAP")[0]) == result.coco["mAP"]
    for name in NAMES:
        ap = result.coco["per_class_AP"][name]
        if ap is not None:
            assert float(shown(f"ap/{name}")[0]) == ap
        rate = m.per_class_detection_rate[name].value
        if rate is not None:
            assert float(shown(f"class_rate/{name}")[0]) == rate
    for i, g in enumerate([*NAMES, "background"]):
        for j, q in enumerate([*NAMES, "background"]):
            assert int(p.cells[f"cm/{g}/{q}"][1]) == result.confusion[i, j]
    forms = result.recall_by_attribute["form"]
    assert sum(c["boxes"] for c in forms.values()) == len(make_set()[0]["annotations"])
    for value, c in forms.items():
        assert float(shown(f"recall/form/{value}")[0]) == c["recall"]
    assert p.cells["headline"][1] == result.headline()
    head = result.headline_point()
    assert head.target_far == 0.01 and f"{100 * head.detection_rate.value:.1f} %" in result.headline()


def test_per_scanner_tables_appear_only_with_two_scanners(result, tmp_path):
    p = parse(write_report(tmp_path / "two.html", result).read_text(encoding="utf-8"))
    for name in ("rapiscan", "smiths"):
        assert float(p.cells[f"scanner/{name}/auc"][0]) == result.per_scanner[name].auc.value
    gt, preds = make_set()
    single = evaluate(gt, preds, NAMES, n_bootstrap=20)
    text = write_report(tmp_path / "one.html", single).read_text(encoding="utf-8")
    assert single.per_scanner == {} and "Per scanner" not in text and "scanner/" not in text


def test_text_is_escaped_and_card_summarised(result, tmp_path):
    text = write_report(tmp_path / "report.html", result).read_text(encoding="utf-8")
    assert "<b>model</b>" not in text and "&lt;b&gt;model&lt;/b&gt; &amp; co" in text
    assert "calibrated for 1 % false alarms" in text


def test_metrics_json_matches_the_result(result, tmp_path):
    metrics, report = write_outputs(result, tmp_path / "out")
    data = json.loads(metrics.read_text())
    assert data["parcel"]["auc"]["value"] == result.parcel.auc.value
    assert data["coco"]["mAP"] == result.coco["mAP"]
    assert data["headline"] == result.headline()
    assert sorted(data["per_scanner"]) == ["rapiscan", "smiths"]
    assert data["recall_by_attribute"] == result.recall_by_attribute
    assert report.is_file()
    assert result.thresholds == CARD["operating_point"]["thresholds"]
    assert not any(isinstance(v, float) and math.isnan(v) for v in _walk(data))


def _walk(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk(v)
    else:
        yield obj


def test_missing_prediction_is_an_error_naming_the_image():
    gt, preds = make_set(n=9)
    del preds[4]
    with pytest.raises(ValueError, match=r"\[4\]"):
        evaluate(gt, preds, NAMES, n_bootstrap=0)
