"""``wildxray`` console script: dispatches to subcommands, importing each one lazily.

Lazy imports keep ``wildxray predict`` and ``wildxray station`` working where only the runtime
dependencies (numpy, OpenCV, onnxruntime) are installed.
"""

from __future__ import annotations

import importlib
import sys

from wildxray import __version__

# name -> (module with ``main(argv) -> int``, one-line help, needs ``wildxray[train]``)
COMMANDS: dict[str, tuple[str, str, bool]] = {
    "synth": ("wildxray.cli.synth", "synthesise dual-energy parcel scans with COCO labels", True),
    "train": ("wildxray.cli.train", "train or fine-tune a detector (Hydra overrides)", True),
    "evaluate": ("wildxray.cli.evaluate", "COCO mAP, parcel ROC and an HTML report (Hydra overrides)", True),
    "calibrate": ("wildxray.cli.calibrate", "set per-class thresholds for a target false-alarm rate", False),
    "export": ("wildxray.cli.export", "export a checkpoint to one ONNX file with its model card", True),
    "predict": ("wildxray.cli.predict", "run an ONNX model on images; write result JSON + overlays", False),
    "demo": ("wildxray.cli.demo", "the whole pipeline on synthetic scans: synth, train, evaluate, export, predict, report", True),
    "station": ("wildxray.cli.station", "hot-folder + HTTP inference service beside a scanner", False),
    "viewer": ("wildxray.cli.viewer", "inspector web page: scans, detections, verdicts", False),
    "feedback": ("wildxray.cli.feedback", "turn inspector verdicts into a COCO training set", False),
}


def _usage() -> str:
    lines = [
        "usage: wildxray <command> [options]",
        "",
        "Find wildlife contraband in parcel X-ray scans and photos.",
        "",
        "commands:",
    ]
    for name, (_, text, train) in COMMANDS.items():
        extra = "" if not train else "  [needs wildxray[train]]"
        lines.append(f"  {name:<10} {text}{extra}")
    lines += [
        "",
        "Run 'wildxray <command> --help' for a command's options.",
        "Hydra commands take overrides, e.g. 'wildxray train model=small train.epochs=5'.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if argv[0] in ("-V", "--version"):
        print(f"wildxray {__version__}")
        return 0
    name = argv[0]
    if name not in COMMANDS:
        print(f"wildxray: unknown command '{name}'\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, _, needs_train = COMMANDS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if needs_train and exc.name and exc.name.split(".")[0] != "wildxray":
            print(
                f"wildxray {name}: needs the training extras (missing module '{exc.name}').\n"
                f"Install them with: pip install 'wildxray[train]'",
                file=sys.stderr,
            )
            return 2
        raise
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
