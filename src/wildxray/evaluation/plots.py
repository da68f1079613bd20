"""Report figures as PNG bytes (matplotlib ``Figure`` objects with the Agg canvas, no display, no network).

Figures are made without pyplot, so rendering a report never switches the backend of the
process that asked for it (a notebook keeps its inline plots).
"""

from __future__ import annotations

import io
from typing import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from wildxray.evaluation.froc import FrocResult
from wildxray.evaluation.parcel_metrics import ParcelMetrics


def _subplots(nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] = (5.5, 4.2)):
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols)
    return fig, axes


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def roc_png(parcel: ParcelMetrics, per_scanner: dict[str, ParcelMetrics] | None = None) -> bytes | None:
    """Parcel ROC: full range and FAR <= 10 %, with the fixed-FAR cuts and the operating point."""
    if not parcel.roc:
        return None
    fig, axes = _subplots(1, 2, figsize=(10, 4.2))
    for ax, xmax in zip(axes, (1.0, 0.1)):
        ax.plot(parcel.roc["fpr"], parcel.roc["tpr"], lw=2, label=f"all (AUC {parcel.auc.value:.3f})")
        for name, m in (per_scanner or {}).items():
            if m.roc:
                ax.plot(m.roc["fpr"], m.roc["tpr"], lw=1, alpha=0.8, label=f"{name} (AUC {m.auc.value:.3f})")
        for p in parcel.at_far:
            ax.plot([p.achieved_far], [p.detection_rate.value], "o", ms=5, color="tab:gray")
            ax.axvline(p.target_far, ls=":", lw=0.8, color="tab:gray")
        if parcel.false_alarm_rate.value is not None and parcel.detection_rate.value is not None:
            ax.plot([parcel.false_alarm_rate.value], [parcel.detection_rate.value], "r*", ms=12, label="operating point")
        ax.set_xlim(0, xmax)
        ax.set_ylim(0, 1.01)
        ax.set_xlabel("false-alarm rate (clean parcels)")
        ax.set_ylabel("detection rate (contraband parcels)")
        ax.grid(alpha=0.3)
    axes[0].set_title("Parcel ROC")
    axes[1].set_title("Parcel ROC, false alarms <= 10 %")
    axes[1].legend(loc="lower right", fontsize=8)
    return _png(fig)


def pr_png(coco: dict) -> bytes | None:
    """Precision-recall per class at IoU 0.5 (COCO's interpolated curves)."""
    curves = {k: v for k, v in coco["pr_curves"]["precision50"].items() if v is not None}
    if not curves:
        return None
    fig, ax = _subplots(figsize=(5.5, 4.2))
    recall = coco["pr_curves"]["recall"]
    for name, prec in curves.items():
        ap = coco["per_class_AP50"].get(name)
        ax.plot(recall, prec, lw=1.5, label=f"{name} (AP50 {ap:.3f})")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_title("Precision-recall per class, IoU 0.5")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    return _png(fig)


def froc_png(result: FrocResult) -> bytes | None:
    """FROC: box sensitivity against false-positive boxes per image (log x)."""
    if not result.curve:
        return None
    fp = np.asarray(result.curve["fp_per_image"])
    sens = np.asarray(result.curve["sensitivity"])
    fig, ax = _subplots(figsize=(5.5, 4.2))
    floor = 1e-3
    ax.plot(np.maximum(fp, floor), sens, lw=2)
    if result.operating_fp_per_image.value is not None and result.operating_sensitivity.value is not None:
        ax.plot([max(result.operating_fp_per_image.value, floor)], [result.operating_sensitivity.value], "r*", ms=12, label="operating point")
        ax.legend(fontsize=8, loc="lower right")
    ax.set_xscale("log")
    ax.set_xlabel("false-positive boxes per image")
    ax.set_ylabel("box sensitivity (IoU >= 0.5)")
    ax.set_ylim(0, 1.01)
    ax.set_title("FROC")
    ax.grid(alpha=0.3, which="both")
    return _png(fig)


def confusion_png(cm: np.ndarray, labels: Sequence[str]) -> bytes:
    """Confusion matrix counts, rows ground truth, columns prediction."""
    n = len(labels)
    fig, ax = _subplots(figsize=(1.0 + 0.7 * n, 0.8 + 0.6 * n))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(n), labels, rotation=45, ha="right")
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("ground truth")
    peak = cm.max() if cm.size else 0
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=8,
                    color="white" if peak and cm[i, j] > peak / 2 else "black")
    ax.set_title("Confusion matrix at the operating point, IoU 0.5")
    return _png(fig)
