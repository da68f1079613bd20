"""``wildxray synth``: write a synthetic (or threat-projected) dual-energy COCO dataset."""
from __future__ import annotations

import argparse
import json

from wildxray.xray.scan_dataset import usable_cores, write_scan_dataset

DESCRIPTION = "Synthesise dual-energy X-ray parcel scans with COCO labels, or project threats into your own scans."

EPILOG = """examples:
  wildxray synth --out data/synth --n 1000 --seed 0 --workers 2
  wildxray synth --out data/synth_compact --n 200 scanner=compact clean_fraction=0.3 image.width=800
  wildxray synth --out data/tip --n 500 --clean-parcels my_scans/clean --threats my_scans/seized

Writes DIR/annotations.json (COCO, image fields modality/scanner/contraband), DIR/images/*.png
(8-bit RGB pseudo-colour), DIR/raw/*.tiff (uint16 HxWx2: high, low; 65535 = transmission 1) and
DIR/summary.json. Each contraband annotation carries its mask as `segmentation` (COCO RLE).
The same seed and overrides give byte-identical files, with any number of --workers.
Threat folders: DIR/<class>/*.tiff with <class> in ivory horn scales skin bone live_animal."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wildxray synth", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="output folder (created)")
    p.add_argument("--n", type=int, default=100, help="number of scans (default 100)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--clean-parcels", metavar="DIR", help="your clean parcel scans: project threats into these")
    p.add_argument("--threats", metavar="DIR", help="seized-item scans DIR/<class>/*.tiff (with --clean-parcels)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help=f"processes drawing synthetic scans (default: all usable cores, here {usable_cores()}; "
                        "threat projection runs in one)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("overrides", nargs="*", help="Hydra overrides of configs/synth.yaml, e.g. scanner=compact")
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.n <= 0:
        print("wildxray synth: --n must be positive")
        return 2
    if args.workers is not None and args.workers <= 0:
        print("wildxray synth: --workers must be positive")
        return 2
    if bool(args.clean_parcels) != bool(args.threats):
        print("wildxray synth: --clean-parcels and --threats go together")
        return 2
    # Here, after parsing (start-up): `--help` and usage errors answer without hydra and the simulator.
    from wildxray.xray.synth_config import load_synth_config

    summary = write_scan_dataset(args.out, args.n, args.seed, load_synth_config(args.overrides),
                                 clean_parcels=args.clean_parcels, threats=args.threats, workers=args.workers,
                                 progress=not args.no_progress)
    print(json.dumps(summary, indent=1))
    return 0
