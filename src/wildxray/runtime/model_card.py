"""The model card: read it from an ONNX file, check it, and (training side) write it.

The card is JSON stored in the ONNX ``metadata_props`` under ``wildxray_card`` and beside the model
as ``<stem>.card.json`` (docs/internals.md, "Export and the model card"). The runtime reads it
through onnxruntime's model metadata, so the ``onnx`` package is only needed by :func:`write_card`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from wildxray.core.atomic_write import atomic_write_bytes

CARD_KEY = "wildxray_card"
FORMAT_VERSION = 1


class ModelCardError(ValueError):
    """A model whose card is missing or invalid; the message names the file and the key."""

    def __init__(self, path: str | Path, key: str, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        where = f"model card key '{key}'" if key else "model card"
        super().__init__(f"{self.path}: {where} {problem}")


def card_path_for(onnx_path: str | Path) -> Path:
    """``model.onnx`` -> ``model.card.json`` beside it."""
    p = Path(onnx_path)
    return p.with_name(p.stem + ".card.json")


def card_from_metadata(metadata: dict[str, str], path: str | Path) -> dict[str, Any]:
    """Parse the card out of an ONNX custom metadata map (``{key: str}``); raises ModelCardError."""
    raw = metadata.get(CARD_KEY)
    if raw is None:
        raise ModelCardError(path, "", f"is missing: the model has no metadata_props['{CARD_KEY}'] "
                             "(export it with 'wildxray export', which writes the card)")
    try:
        card = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ModelCardError(path, "", f"is not valid JSON ({exc})") from exc
    if not isinstance(card, dict):
        raise ModelCardError(path, "", f"must be a JSON object, got {type(card).__name__}")
    return card


def read_card(onnx_path: str | Path) -> dict[str, Any]:
    """Read the card from an ONNX file via onnxruntime (no ``onnx`` import); not validated."""
    import onnxruntime as ort  # start-up: onnxruntime (~1 s) loads when a model is opened, not with `--help`

    path = Path(onnx_path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    opts = ort.SessionOptions()
    # Only the metadata is wanted: skip graph optimisation to keep this cheap.
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.log_severity_level = 3
    sess = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    return card_from_metadata(sess.get_modelmeta().custom_metadata_map, path)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def validate_card(card: dict[str, Any], path: str | Path) -> dict[str, Any]:
    """Check the keys the runtime depends on; returns the card or raises :class:`ModelCardError`.

    Required: ``classes`` (non-empty list of unique strings), ``input_size`` (int >= 32),
    ``padding_value`` (int 0..255), ``operating_point.thresholds`` (a number in [0, 1] for every
    class). ``format_version``, when present, must be 1. ``operating_point.parcel_score``, when
    present, is ``"boxes"`` or ``"parcel_head"``; the latter needs ``operating_point.parcel_thresholds``
    (the same form as ``thresholds``, in parcel-score units).
    """
    if not isinstance(card, dict):
        raise ModelCardError(path, "", f"must be a JSON object, got {type(card).__name__}")
    version = card.get("format_version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise ModelCardError(path, "format_version", f"is {version!r}; this runtime reads version {FORMAT_VERSION}")
    classes = card.get("classes")
    if classes is None:
        raise ModelCardError(path, "classes", "is missing")
    if (not isinstance(classes, list) or not classes or not all(isinstance(c, str) and c for c in classes)):
        raise ModelCardError(path, "classes", f"must be a non-empty list of class names, got {classes!r}")
    if len(set(classes)) != len(classes):
        raise ModelCardError(path, "classes", f"has duplicate names: {classes!r}")
    size = card.get("input_size")
    if size is None:
        raise ModelCardError(path, "input_size", "is missing")
    if not isinstance(size, int) or isinstance(size, bool) or size < 32:
        raise ModelCardError(path, "input_size", f"must be an integer >= 32, got {size!r}")
    pad = card.get("padding_value")
    if pad is None:
        raise ModelCardError(path, "padding_value", "is missing")
    if not isinstance(pad, int) or isinstance(pad, bool) or not 0 <= pad <= 255:
        raise ModelCardError(path, "padding_value", f"must be an integer in 0..255, got {pad!r}")
    op = card.get("operating_point")
    if not isinstance(op, dict):
        raise ModelCardError(path, "operating_point", "is missing" if op is None else "must be an object")
    _check_thresholds(op.get("thresholds"), classes, path, "operating_point.thresholds")
    source = op.get("parcel_score", "boxes")
    if source not in ("boxes", "parcel_head"):
        raise ModelCardError(path, "operating_point.parcel_score", f"must be 'boxes' or 'parcel_head', got {source!r}")
    if source == "parcel_head":
        _check_thresholds(op.get("parcel_thresholds"), classes, path, "operating_point.parcel_thresholds")
    tile = card.get("tile_aspect")
    if tile is not None and (not _is_number(tile) or tile < 1.0):
        raise ModelCardError(path, "tile_aspect", f"must be a number >= 1, got {tile!r}")
    return card


def _check_thresholds(thresholds: Any, classes: list, path: str | Path, where: str) -> None:
    """A ``{class: threshold in [0, 1]}`` object naming exactly the model's classes."""
    if not isinstance(thresholds, dict):
        raise ModelCardError(path, where, "is missing" if thresholds is None else "must be an object {class: threshold}")
    for name in classes:
        if name not in thresholds:
            raise ModelCardError(path, f"{where}.{name}", "is missing")
        t = thresholds[name]
        if not _is_number(t) or not 0.0 <= t <= 1.0:
            raise ModelCardError(path, f"{where}.{name}", f"must be a number in [0, 1], got {t!r}")
    extra = sorted(set(thresholds) - set(classes))
    if extra:
        raise ModelCardError(path, where, f"names classes the model does not have: {extra}")


def write_card(onnx_path: str | Path, card: dict[str, Any]) -> Path:
    """Validate ``card`` and store it in the model's metadata_props and in ``<stem>.card.json``.

    Both files are replaced atomically (temporary file + ``os.replace``), so a station reading the
    model meanwhile sees the old or the new file, never half of one. Needs the ``onnx`` package
    (training extras). Returns the card JSON path.
    """
    import onnx  # keeps onnx (a training extra) out of the station: only rewriting a card needs it

    path = Path(onnx_path)
    validate_card(card, path)
    model = onnx.load(str(path))
    kept = [p for p in model.metadata_props if p.key != CARD_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    entry = model.metadata_props.add()
    entry.key, entry.value = CARD_KEY, json.dumps(card)
    atomic_write_bytes(path, model.SerializeToString(), fsync=True)
    json_path = card_path_for(path)
    atomic_write_bytes(json_path, (json.dumps(card, indent=2) + "\n").encode(), fsync=True)
    return json_path
