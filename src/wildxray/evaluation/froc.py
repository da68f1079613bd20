"""FROC: box-level sensitivity against mean false-positive boxes per image, numpy only.

A detection is a true positive when it matches a ground-truth box of its class at IoU >= 0.5
(:func:`wildxray.evaluation.matching.match_detections`); sensitivity = matched ground-truth boxes /
all ground-truth boxes; FP per image = unmatched detections / all images (clean ones included).
Detections are ranked by calibrated score (0.5 at each class threshold, see
:mod:`wildxray.runtime.decision`), so the operating point lies on the curve.
Sensitivity at a fixed FP rate r is conservative: the highest sensitivity of any score cut with at
most ``floor(r * n_images)`` false-positive boxes. Intervals: the same stratified bootstrap over
images as the parcel metrics.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np

from wildxray.evaluation.bootstrap import Estimate, percentile_estimate, stratified_indices
from wildxray.evaluation.matching import detection_flags
from wildxray.evaluation.records import ParcelRecord
from wildxray.runtime.decision import ALARM_LEVEL

DEFAULT_FP_RATES: tuple[float, ...] = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0)
_EPS = 1e-9


@dataclass
class FrocResult:
    """FROC curve and fixed-FP-rate sensitivities.

    curve: fp_per_image, sensitivity, thresholds (calibrated score cuts, descending) as lists.
    at_fp_rate: {fp rate: sensitivity Estimate}. operating_*: at the class thresholds.
    """

    n_images: int
    n_gt_boxes: int
    at_fp_rate: dict[float, Estimate]
    operating_sensitivity: Estimate
    operating_fp_per_image: Estimate
    curve: dict[str, list[float]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["at_fp_rate"] = {str(k): v for k, v in d["at_fp_rate"].items()}
        return d


def _cut_scores(weights: np.ndarray, fp_s: np.ndarray, fp_i: np.ndarray, allowed: int) -> np.ndarray:
    """Per weight row, the highest FP score that must stay below the cut: float [B] (-inf: none).

    weights: float [B, I] image multiplicities; fp_s: FP scores sorted descending, fp_i their images.
    Only a prefix of the FP list can hold the (allowed+1)-th weighted FP in almost every row, so
    rows are solved on a prefix first and the rare rest on the full list (memory stays O(B x prefix)).
    """
    b = len(weights)
    cut = np.full(b, -np.inf)
    if len(fp_s) == 0:
        return cut
    todo = np.arange(b)
    length = min(len(fp_s), 4 * (allowed + 1) + 64)
    while len(todo):
        cum = np.cumsum(weights[np.ix_(todo, fp_i[:length])], axis=1)  # [rows, length]
        over = cum > allowed
        found = over.any(axis=1)
        cut[todo[found]] = fp_s[over[found].argmax(axis=1)]
        if length == len(fp_s):
            break  # rows never over `allowed`: every FP may stay, no cut (-inf)
        todo, length = todo[~found], len(fp_s)
    return cut


def _sensitivity_at(
    weights: np.ndarray, fp_s: np.ndarray, fp_i: np.ndarray, tp_s: np.ndarray, tp_i: np.ndarray, n_gt: np.ndarray, allowed: int
) -> np.ndarray:
    """Sensitivity per weight row with at most ``allowed`` weighted FPs: float [B].

    tp_s: TP scores sorted descending, tp_i their images; n_gt: float [I] boxes per image."""
    b = len(weights)
    cut = _cut_scores(weights, fp_s, fp_i, allowed)
    if len(tp_s) == 0:
        return np.zeros(b)
    # TPs are at most one per ground-truth box, so [B, T] stays small.
    cum_tp = np.concatenate([np.zeros((b, 1)), np.cumsum(weights[:, tp_i], axis=1)], axis=1)  # [B, T+1]
    n_above = np.searchsorted(-tp_s, -cut, side="left")  # TPs strictly above the cut
    with np.errstate(invalid="ignore", divide="ignore"):
        return cum_tp[np.arange(b), n_above] / (weights @ n_gt)


def froc(
    records: Sequence[ParcelRecord],
    class_names: Sequence[str],
    thresholds: dict[str, float],
    fp_rates: Sequence[float] = DEFAULT_FP_RATES,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> FrocResult:
    """FROC of a set with bootstrap intervals; sensitivities are None when there is no gt box."""
    flags = detection_flags(records, class_names, thresholds)
    n_img = len(records)
    n_gt = np.array([len(r.target.labels) for r in records], np.float64)
    img = np.concatenate([np.full(len(s), i) for i, (s, _) in enumerate(flags)]) if flags else np.zeros(0, int)
    score = np.concatenate([s for s, _ in flags]) if flags else np.zeros(0)
    is_tp = np.concatenate([t for _, t in flags]) if flags else np.zeros(0, bool)
    order = np.argsort(-score, kind="stable")
    img, score, is_tp = img[order].astype(np.int64), score[order], is_tp[order]
    tp_s, tp_i, fp_s, fp_i = score[is_tp], img[is_tp], score[~is_tp], img[~is_tp]
    total_gt = int(n_gt.sum())

    curve: dict[str, list[float]] = {}
    if n_img and total_gt:
        cuts = np.unique(score)[::-1]
        tp_count = np.searchsorted(-tp_s, -cuts, side="right")  # TP with score >= cut
        fp_count = np.searchsorted(-fp_s, -cuts, side="right")
        # Keep the corners only (points just before and at each sensitivity step, and the end):
        # at most 2 x (ground-truth boxes) + 2 points however many detections there are.
        step = np.flatnonzero(np.diff(np.concatenate([[0], tp_count])) > 0)
        keep = np.unique(np.concatenate([step, step - 1, [len(cuts) - 1]]))
        keep = keep[keep >= 0]
        curve = {
            "fp_per_image": np.concatenate([[0.0], fp_count[keep] / n_img]).tolist(),
            "sensitivity": np.concatenate([[0.0], tp_count[keep] / total_gt]).tolist(),
            "thresholds": cuts[keep].tolist(),
        }

    positive = n_gt > 0
    pos_i, neg_i = np.flatnonzero(positive), np.flatnonzero(~positive)
    ones = np.ones((1, n_img))
    boot = None
    if n_bootstrap and n_img:
        bp, bn = stratified_indices(len(pos_i), len(neg_i), n_bootstrap, seed)
        picks = np.concatenate([pos_i[bp], neg_i[bn]], axis=1)  # [B, n_img]
        boot = np.stack([np.bincount(row, minlength=n_img) for row in picks]).astype(np.float64)

    def estimate(allowed: int) -> Estimate:
        if not total_gt:
            return Estimate(None)
        value = float(_sensitivity_at(ones, fp_s, fp_i, tp_s, tp_i, n_gt, allowed)[0])
        if boot is None:
            return Estimate(value)
        return percentile_estimate(value, _sensitivity_at(boot, fp_s, fp_i, tp_s, tp_i, n_gt, allowed))

    at_rate = {float(r): estimate(int(math.floor(r * n_img + _EPS))) for r in fp_rates}

    # Operating point: detections with calibrated score >= 0.5, counted per image.
    keep = score >= ALARM_LEVEL
    tp_per_img = np.bincount(img[keep & is_tp], minlength=n_img).astype(np.float64)  # [I]
    fp_per_img = np.bincount(img[keep & ~is_tp], minlength=n_img).astype(np.float64)  # [I]

    def op_stats(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(invalid="ignore", divide="ignore"):
            return (w @ tp_per_img) / (w @ n_gt), (w @ fp_per_img) / w.sum(axis=1)

    if n_img:
        sens0, fp0 = op_stats(ones)
        sens_b, fp_b = op_stats(boot) if boot is not None else (None, None)
        sens_v = float(sens0[0]) if total_gt else None
        op_sens = percentile_estimate(sens_v, sens_b) if sens_b is not None else Estimate(sens_v)
        op_fp = percentile_estimate(float(fp0[0]), fp_b) if fp_b is not None else Estimate(float(fp0[0]))
    else:
        op_sens, op_fp = Estimate(None), Estimate(None)
    return FrocResult(n_img, total_gt, at_rate, op_sens, op_fp, curve)
