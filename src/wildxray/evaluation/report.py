"""The evaluation report: ONE self-contained HTML file (inline CSS, inline base64 PNG/JPEG, no
script, no external URL), readable offline on an inspector's or an auditor's machine.

Every figure cell carries ``data-key`` naming the figure (e.g. ``auc``, ``far@0.01``,
``ap/ivory``) and ``data-value`` with the unrounded number, so tests and tools can read the
numbers back and check them against ``metrics.json``.
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path
from typing import Mapping

import cv2
import numpy as np

from wildxray.evaluation import plots
from wildxray.evaluation.bootstrap import Estimate
from wildxray.evaluation.gallery import GALLERY_KINDS
from wildxray.evaluation.parcel_metrics import ParcelMetrics
from wildxray.evaluation.result import EvalResult

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.8em}
p.headline{font-size:1.25em;background:#eef6ee;border-left:5px solid #2a7;padding:.6em .9em}
p.operating{background:#f4f4fa;border-left:5px solid #66a;padding:.5em .9em}
p.warn{background:#fff4e0;border-left:5px solid #e90;padding:.5em .9em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em} th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3} td.name,th.name{text-align:left}
.ci{color:#666;font-size:.85em} img.plot{max-width:100%;margin:.4em 0}
.gallery{display:flex;flex-wrap:wrap;gap:10px} figure{margin:0;width:320px}
figure img{width:100%;border:1px solid #999} figcaption{font-size:.82em;color:#333}
"""

_GALLERY_TITLES = {
    "missed": "Missed contraband (parcels that stayed clear)",
    "false_alarm": "False alarms (clean parcels that alarmed)",
    "hit": "Hits (contraband parcels that alarmed)",
}


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def format_figure(v: float | None, kind: str = "pct") -> str:
    """kind: "pct" (fraction shown as %), "num" (3 decimals), "per100" (2 decimals)."""
    if v is None or not math.isfinite(v):
        return "n/a"
    return {"pct": f"{100 * v:.1f} %", "num": f"{v:.3f}", "per100": f"{v:.2f}"}[kind]


def _cell(key: str, value: float | None, kind: str = "pct") -> str:
    dv = "" if value is None else f' data-value="{value!r}"'
    return f'<td data-key="{_e(key)}"{dv}>{format_figure(value, kind)}</td>'


def _est_cells(key: str, est: Estimate, kind: str = "pct") -> str:
    """The value cell and its interval cell."""
    ci = "" if est.ci_low is None else f"{format_figure(est.ci_low, kind)} – {format_figure(est.ci_high, kind)}"
    return _cell(key, est.value, kind) + f'<td class="ci">{ci}</td>'


def _img(data: bytes | None, mime: str, alt: str, cls: str = "plot") -> str:
    if data is None:
        return f"<p>({_e(alt)}: not defined for this set)</p>"
    return f'<img class="{cls}" alt="{_e(alt)}" src="data:{mime};base64,{base64.b64encode(data).decode("ascii")}">'


def _jpeg(rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise ValueError("could not encode a gallery image as JPEG")
    return buf.tobytes()


def _parcel_table(m: ParcelMetrics, prefix: str = "") -> str:
    rows = [f'<tr><td class="name">AUC (parcel ROC)</td>{_est_cells(prefix + "auc", m.auc, "num")}</tr>']
    for p in m.at_far:
        note = "" if p.resolvable else " (measured at 0 false alarms: too few clean parcels)"
        rows.append(
            f'<tr><td class="name">detection rate at {100 * p.target_far:g} % false alarms{_e(note)}</td>'
            f'{_est_cells(f"{prefix}far@{p.target_far:g}", p.detection_rate)}</tr>'
        )
    rows += [
        f'<tr><td class="name">detection rate at the operating point</td>{_est_cells(prefix + "op_detection_rate", m.detection_rate)}</tr>',
        f'<tr><td class="name">false-alarm rate at the operating point</td>{_est_cells(prefix + "op_false_alarm_rate", m.false_alarm_rate)}</tr>',
        f'<tr><td class="name">false alarms per 100 clean parcels</td>{_est_cells(prefix + "false_alarms_per_100", m.false_alarms_per_100_clean, "per100")}</tr>',
        f'<tr><td class="name">false boxes per 100 clean parcels</td>{_est_cells(prefix + "false_boxes_per_100", m.false_boxes_per_100_clean, "per100")}</tr>',
    ]
    head = f'<tr><th class="name">figure ({m.n_contraband} contraband, {m.n_clean} clean parcels)</th><th>value</th><th>95 % CI</th></tr>'
    return f"<table>{head}{''.join(rows)}</table>"


_SOURCE_WORDS = {"boxes": "the highest box score per class", "parcel_head": "the model's parcel head (parcel_scores)"}


def _source_note(result: EvalResult) -> str:
    return f"<p data-key='parcel_score_source'>Parcels scored on {_e(_SOURCE_WORDS[result.parcel_score_source])}.</p>"


def _other_source_table(result: EvalResult) -> str:
    """The same figures for the other way of scoring a parcel (models with a parcel head)."""
    others = [k for k in result.parcel_by_source if k != result.parcel_score_source]
    return "".join(f"<h3>Scored instead on {_e(_SOURCE_WORDS[k])}</h3>"
                   + _parcel_table(result.parcel_by_source[k], prefix=f"{k}/") for k in others)


def _per_class_table(result: EvalResult) -> str:
    head = ("<tr><th class='name'>class</th><th>threshold</th><th>AP 50–95</th><th>AP50</th>"
            "<th>parcels</th><th>detection rate at operating point</th><th>95 % CI</th></tr>")
    rows = []
    for name in result.class_names:
        rows.append(
            f'<tr><td class="name">{_e(name)}</td><td data-key="threshold/{_e(name)}">{result.thresholds[name]:.4f}</td>'
            f'{_cell("ap/" + name, result.coco["per_class_AP"][name], "num")}'
            f'{_cell("ap50/" + name, result.coco["per_class_AP50"][name], "num")}'
            f'<td>{result.parcel.per_class_parcels[name]}</td>'
            f'{_est_cells("class_rate/" + name, result.parcel.per_class_detection_rate[name])}</tr>'
        )
    return f"<table>{head}{''.join(rows)}</table>"


def _per_scanner_table(per_scanner: Mapping[str, ParcelMetrics]) -> str:
    if not per_scanner:
        return ""
    fars = [p.target_far for p in next(iter(per_scanner.values())).at_far] or [0.01]
    head = ("<tr><th class='name'>scanner</th><th>contraband</th><th>clean</th><th>AUC</th>"
            + "".join(f"<th>detection at {100 * f:g} % FA</th>" for f in fars)
            + "<th>detection at operating point</th><th>false alarms / 100 clean</th></tr>")
    rows = []
    for name, m in per_scanner.items():
        k = f"scanner/{name}/"
        at = {p.target_far: p for p in m.at_far}
        far_cells = "".join(_cell(f"{k}far@{f:g}", at[f].detection_rate.value if f in at else None) for f in fars)
        rows.append(
            f'<tr><td class="name">{_e(name)}</td><td>{m.n_contraband}</td><td>{m.n_clean}</td>'
            f'{_cell(k + "auc", m.auc.value, "num")}{far_cells}{_cell(k + "op_detection_rate", m.detection_rate.value)}'
            f'{_cell(k + "false_alarms_per_100", m.false_alarms_per_100_clean.value, "per100")}</tr>'
        )
    return "<h2>Per scanner</h2><p>Intervals for each scanner are in metrics.json.</p>" + f"<table>{head}{''.join(rows)}</table>"


def _froc_table(result: EvalResult) -> str:
    f = result.froc
    rows = "".join(
        f'<tr><td class="name">{r:g} false-positive boxes per image</td>{_est_cells(f"froc@{r:g}", e)}</tr>'
        for r, e in f.at_fp_rate.items()
    )
    rows += f'<tr><td class="name">operating point</td>{_est_cells("froc_op_sensitivity", f.operating_sensitivity)}</tr>'
    head = f"<tr><th class='name'>box sensitivity ({f.n_gt_boxes} boxes, {f.n_images} images)</th><th>value</th><th>95 % CI</th></tr>"
    return f"<table>{head}{rows}</table>"


def _confusion_table(result: EvalResult) -> str:
    labels = [*result.class_names, "background"]
    head = "<tr><th class='name'>gt \\ predicted</th>" + "".join(f"<th>{_e(n)}</th>" for n in labels) + "</tr>"
    rows = "".join(
        f'<tr><th class="name">{_e(g)}</th>'
        + "".join(f'<td data-key="cm/{_e(g)}/{_e(p)}">{int(result.confusion[i, j])}</td>' for j, p in enumerate(labels))
        + "</tr>"
        for i, g in enumerate(labels)
    )
    return f"<table>{head}{rows}</table>"


def _card_summary(card: Mapping | None, result: EvalResult) -> str:
    if not card:
        return "<p>No model card was given.</p>"
    op = card.get("operating_point") or {}
    val = op.get("validation") or {}
    items = [
        ("name", card.get("name")),
        ("classes", ", ".join(card.get("classes", []))),
        ("input size", card.get("input_size")),
        ("modality", card.get("modality")),
        ("opset", card.get("opset")),
        ("export date", card.get("export_date")),
        ("git commit", card.get("git_commit")),
        ("calibrated", op.get("calibrated")),
        ("calibrated for false-alarm rate", format_figure(op.get("target_false_alarm_rate")) if op.get("target_false_alarm_rate") is not None else "n/a"),
        ("validation false-alarm rate", format_figure(val.get("false_alarm_rate")) if "false_alarm_rate" in val else "n/a"),
        ("validation detection rate", format_figure(val.get("detection_rate")) if "detection_rate" in val else "n/a"),
        ("validation set", f"{val.get('n_contraband')} contraband, {val.get('n_clean')} clean" if "n_clean" in val else "n/a"),
        ("training data", card.get("training_data")),
    ]
    rows = "".join(f'<tr><td class="name">{_e(k)}</td><td class="name">{_e(v)}</td></tr>' for k, v in items)
    warn = f'<p class="warn">{_e(val["reason"])}</p>' if val.get("reason") else ""
    return f"<table>{rows}</table>{warn}"


def _galleries(result: EvalResult) -> str:
    if not result.gallery:
        return "<p>No images were available for galleries.</p>"
    parts = []
    for kind in GALLERY_KINDS:
        items = [g for g in result.gallery if g.kind == kind]
        parts.append(f"<h3>{_e(_GALLERY_TITLES[kind])} — {len(items)} shown</h3>")
        if not items:
            parts.append("<p>None.</p>")
            continue
        figs = []
        for g in items:
            cap = (f"{g.file_name or g.image_id} · parcel score {g.parcel_score:.3f} · "
                   f"truth: {', '.join(g.gt_classes) or 'clean'} · alarm: {', '.join(g.alarm_classes) or 'none'}")
            figs.append(f"<figure>{_img(_jpeg(g.image), 'image/jpeg', str(g.file_name), cls='scan')}<figcaption>{_e(cap)}</figcaption></figure>")
        parts.append(f'<div class="gallery">{"".join(figs)}</div>')
    return "".join(parts)


def _attribute_tables(result: EvalResult) -> str:
    """Box recall per annotation attribute (the simulator's ``form`` and ``concealment``)."""
    if not result.recall_by_attribute:
        return ""
    parts = ["<h2>Recall by box attribute</h2>",
             "<p>Ground-truth boxes found by a detection of their own class at or above its threshold "
             "(IoU ≥ 0.5, the confusion matrix's pairing), by each attribute the annotations carry.</p>"]
    head = ("<tr><th class='name'>{}</th><th>boxes</th><th>found</th><th>found as another class</th>"
            "<th>recall</th></tr>")
    for key, values in result.recall_by_attribute.items():
        rows = "".join(
            f'<tr><td class="name">{_e(v)}</td><td>{c["boxes"]}</td><td>{c["found"]}</td>'
            f'<td>{c["found_other_class"]}</td>{_cell(f"recall/{key}/{v}", c["recall"])}</tr>'
            for v, c in values.items())
        parts.append(f"<h3>{_e(key)}</h3><table>{head.format(_e(key))}{rows}</table>")
    return "".join(parts)


def render_report(result: EvalResult, card: Mapping | None = None) -> str:
    """The report as an HTML string."""
    card = card if card is not None else result.card
    c = result.coco
    coco_rows = "".join(
        f'<tr><td class="name">{_e(label)}</td>{_cell(key, c[key], "num")}</tr>'
        for label, key in (("mAP @ IoU 0.50:0.95", "mAP"), ("mAP @ IoU 0.50", "mAP50"), ("mAP @ IoU 0.75", "mAP75"))
    )
    cm_labels = [*result.class_names, "background"]
    body = [
        "<h1>wildxray evaluation report</h1>",
        f'<p class="headline" data-key="headline">{_e(result.headline())}</p>',
        f'<p class="operating">{_e(result.operating_sentence())}</p>',
        f"<p>Intervals: stratified bootstrap over parcels, {result.n_bootstrap} replicates, seed {result.seed}, "
        "95 % percentile. Detection rate at a fixed false-alarm rate uses the best cut on this set whose "
        "false-alarm rate does not exceed the target (no interpolation).</p>",
        "<h2>Parcel screening</h2>", _source_note(result), _parcel_table(result.parcel),
        _other_source_table(result),
        _img(plots.roc_png(result.parcel, result.per_scanner), "image/png", "parcel ROC"),
        _per_scanner_table(result.per_scanner),
        "<h2>Per class</h2>", _per_class_table(result),
        "<h2>COCO detection metrics</h2>", f"<table><tr><th class='name'>figure</th><th>value</th></tr>{coco_rows}</table>",
        _img(plots.pr_png(c), "image/png", "precision-recall curves"),
        "<h2>FROC</h2>", _froc_table(result), _img(plots.froc_png(result.froc), "image/png", "FROC"),
        "<h2>Confusion matrix</h2>",
        "<p>Detections at or above their class threshold, matched to ground truth at IoU ≥ 0.5.</p>",
        _confusion_table(result), _img(plots.confusion_png(result.confusion, cm_labels), "image/png", "confusion matrix"),
        _attribute_tables(result),
        "<h2>Galleries</h2>",
        "<p>White: ground truth. Coloured: detections (thick: classes that raised the alarm).</p>",
        _galleries(result),
        "<h2>Model card</h2>", _card_summary(card, result),
    ]
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>wildxray evaluation report</title>"
            f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n")


def write_report(path: str | Path, result: EvalResult, card: Mapping | None = None) -> Path:
    """Write the self-contained report to ``path`` (parents created); returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_report(result, card), encoding="utf-8")
    return p
