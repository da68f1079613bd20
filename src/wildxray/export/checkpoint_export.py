"""Export a training checkpoint (the trainer's format) to ONNX + model card.

Checkpoint format (written by ``wildxray.training``): a dict with ``model`` (Detector state_dict),
``ema`` (state_dict or None), ``config`` (the resolved Hydra config as a plain dict holding
``model.detector`` and ``input_size``), ``class_names`` (list of str). Optional keys feed the card:
``metrics`` (dict; else ``best_metric`` and the last ``history`` entry), ``training_data`` (dict; else
the config's ``data`` section), ``git_commit`` (used when the export runs outside a checkout).
"""

from __future__ import annotations

import json
from pathlib import Path

import hydra.utils
import torch

from wildxray.export.card_builder import build_card
from wildxray.export.onnx_export import MIN_OPSET, export_onnx
from wildxray.export.quantize import quantize_onnx
from wildxray.gitinfo import git_commit
from wildxray.models.detector import Detector

REQUIRED_KEYS = ("model", "config", "class_names")


def _input_size(config: dict) -> int | None:
    for source in (config, config.get("model", {}), config.get("data", {})):
        if isinstance(source, dict) and source.get("input_size"):
            return int(source["input_size"])
    return None


def _card_metrics(ckpt: dict) -> dict:
    if ckpt.get("metrics"):
        return dict(ckpt["metrics"])
    out: dict = {}
    if ckpt.get("best_metric") is not None:
        out["best_metric"] = ckpt["best_metric"]
    if ckpt.get("history"):
        out["last_epoch"] = ckpt["history"][-1]
    return out


def _json_safe(value: object) -> object:
    """Round-trip through JSON so numpy/tensor scalars or paths in a config cannot break the card."""
    return json.loads(json.dumps(value, default=str))


def load_detector_from_checkpoint(ckpt_path: str | Path) -> tuple[Detector, dict]:
    """Rebuild the Detector from ``config["model"]["detector"]`` and load EMA weights if present.

    Returns ``(detector in eval mode, checkpoint dict)``. Raises ValueError naming the file and
    what is missing or mismatched.
    """
    ckpt_path = Path(ckpt_path)
    if not ckpt_path.is_file():
        raise FileNotFoundError(f"checkpoint {ckpt_path} does not exist")
    ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    if not isinstance(ckpt, dict):
        raise ValueError(f"{ckpt_path}: not a wildxray checkpoint (a {type(ckpt).__name__}, expected a dict)")
    missing = [k for k in REQUIRED_KEYS if k not in ckpt]
    if missing:
        raise ValueError(f"{ckpt_path}: checkpoint lacks keys {missing} (has {sorted(ckpt)})")
    det_cfg = ckpt["config"].get("model", {}).get("detector")
    if not det_cfg:
        raise ValueError(f"{ckpt_path}: config has no model.detector section")
    det_cfg = {k: v for k, v in dict(det_cfg).items() if k != "num_classes"}
    # Weights come from the checkpoint: never load (or download) backbone weights again.
    det_cfg["weights"] = None
    det_cfg.pop("freeze_stages", None)
    detector = hydra.utils.instantiate(det_cfg, num_classes=len(ckpt["class_names"]))
    state = ckpt.get("ema") or ckpt["model"]
    try:
        detector.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{ckpt_path}: weights do not fit the configured detector: {exc}") from exc
    return detector.eval(), ckpt


def export_checkpoint(
    ckpt_path: str | Path,
    out_path: str | Path,
    input_size: int | None = None,
    score_thresh: float = 0.01,
    iou_thresh: float = 0.6,
    max_det: int = 100,
    opset: int = MIN_OPSET,
    simplify: bool = True,
    modality: str | None = None,
    name: str | None = None,
) -> Path:
    """Checkpoint -> ``out_path`` (.onnx) + ``<stem>.card.json``; returns ``out_path``.

    ``input_size`` defaults to the checkpoint config's ``input_size``; ``modality`` to the config's
    ``data.modality`` (else ``xray``).
    """
    detector, ckpt = load_detector_from_checkpoint(ckpt_path)
    config = ckpt["config"]
    size = input_size or _input_size(config)
    if not size:
        raise ValueError(f"{ckpt_path}: no input_size in the checkpoint config; pass --size")
    data_cfg = config.get("data", {}) if isinstance(config.get("data"), dict) else {}
    card = build_card(
        name=name or Path(out_path).stem,
        classes=list(ckpt["class_names"]),
        input_size=size,
        mean=detector.mean.flatten().tolist(),
        std=detector.std.flatten().tolist(),
        score_threshold=score_thresh,
        iou_threshold=iou_thresh,
        max_detections=max_det,
        opset=opset,
        modality=modality or data_cfg.get("modality", "xray"),
        metrics=_json_safe(_card_metrics(ckpt)),
        training_data=_json_safe(ckpt.get("training_data") or {"data": data_cfg}),
        commit=git_commit() or ckpt.get("git_commit"),
    )
    return export_onnx(detector, out_path, card, size, opset=opset, simplify=simplify)


def export_int8(
    ckpt_path: str | Path,
    out_path: str | Path,
    calib_images: str | Path,
    calib_max: int = 100,
    calib_method: str = "minmax",
    **export_options,
) -> tuple[Path, Path]:
    """Checkpoint -> an INT8 model at ``out_path``, via an fp32 export kept beside it as ``<stem>.fp32.onnx``.

    ``export_options`` are :func:`export_checkpoint`'s; calibration as in
    :func:`wildxray.export.quantize.quantize_onnx`. Each model gets its ``<stem>.card.json``.
    Returns (the INT8 model, the fp32 model)."""
    fp32 = export_checkpoint(ckpt_path, Path(out_path).with_suffix(".fp32.onnx"), **export_options)
    int8 = quantize_onnx(fp32, out_path, calib_images, max_images=calib_max, method=calib_method)
    return int8, fp32
