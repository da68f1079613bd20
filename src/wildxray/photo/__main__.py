"""``python -m wildxray.photo OUT --n 200 --seed 0``: write a synthetic photo dataset (COCO)."""

from __future__ import annotations

import argparse
import sys

from wildxray.photo.photo_contact_sheet import make_contact_sheet
from wildxray.photo.dataset import write_photo_dataset


def _size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be HxW, e.g. 480x640, got {text!r}") from None
    return h, w


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="python -m wildxray.photo",
        description="Generate synthetic photos of wildlife contraband and look-alikes with COCO boxes "
        "(images/*.jpg, annotations.json, summary.json). Synthetic: real listings need real data.",
    )
    p.add_argument("out_dir", help="folder to write (created if missing)")
    p.add_argument("--n", type=int, default=100, help="number of photos (default 100)")
    p.add_argument("--seed", type=int, default=0, help="seed; the same seed gives byte-identical files")
    p.add_argument("--size", type=_size, default=(480, 640), help="photo size HxW (default 480x640)")
    p.add_argument("--clean-fraction", type=float, default=0.3, help="share of photos with look-alikes only")
    p.add_argument("--contact-sheet", metavar="PNG", help="also write a contact sheet of the first 9 photos")
    args = p.parse_args(argv)
    ann = write_photo_dataset(args.out_dir, args.n, args.seed, args.size, args.clean_fraction)
    print(f"wrote {args.n} photos and {ann}")
    if args.contact_sheet:
        print(f"wrote {make_contact_sheet(args.contact_sheet, 9, args.seed, size=args.size)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
