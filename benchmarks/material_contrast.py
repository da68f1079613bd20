"""How far apart contraband and its look-alikes are in what a dual-energy scanner measures.

For each material of a pair list (contraband, then the decoy and clutter materials that imitate it),
the simulator's exact polychromatic transmission (``xray.physics``) through a slab gives
R = ln T_low / ln T_high, the ratio scanners colour by (organic ~1.1-1.3, inorganic ~1.4-1.6), and
T_high, the brightness. Two materials whose R differs by a few hundredths are the same colour on
any display: only shape, thickness and texture can tell them apart.

    python benchmarks/material_contrast.py                        # default profile, 1 and 3 cm
    python benchmarks/material_contrast.py --profile highenergy --thickness 0.5 2 5
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

#: contraband material -> the materials that imitate it in the simulator (decoys, clutter)
LOOK_ALIKES: dict[str, list[str]] = {
    "rhino_horn": ["cattle_horn", "epoxy", "leather", "soft_tissue"],
    "dentine_ivory": ["polyresin", "cattle_bone", "porcelain"],
    "pangolin_scale": ["cattle_horn", "leather", "polyester_fabric"],
    "cortical_bone": ["cattle_bone", "polyresin", "dentine_ivory"],
    "salted_hide": ["leather", "cotton_fabric", "polyester_fabric"],
}


def contrast_rows(profile: str, thicknesses: list[float]) -> list[tuple[str, str, list[float], list[float]]]:
    """(contraband, material, R per thickness, T_high per thickness) for every pair of LOOK_ALIKES."""
    from wildxray.xray.physics import polychromatic_transmission
    from wildxray.xray.synth_config import scanner_profile

    prof = scanner_profile(profile)
    rows = []
    for target, others in LOOK_ALIKES.items():
        for m in [target, *others]:
            t = [polychromatic_transmission(prof, [(m, cm)]) for cm in thicknesses]
            rows.append((target, m, [float(np.log(lo) / np.log(hi)) for hi, lo in t], [float(hi) for hi, _ in t]))
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="default", help="scanner profile (configs/scanner/)")
    p.add_argument("--thickness", type=float, nargs="+", default=[1.0, 3.0], help="slab thicknesses, cm")
    args = p.parse_args(argv)
    ts = args.thickness
    print(f"profile {args.profile}: R = ln T_low / ln T_high; ΔR against the contraband material\n")
    print("| contraband | material | " + " | ".join(f"R ({t:g} cm) | ΔR | T_high" for t in ts) + " |")
    print("|---|---|" + "---|---|---|" * len(ts))
    ref: dict[str, list[float]] = {}
    for target, m, r, hi in contrast_rows(args.profile, ts):
        ref.setdefault(target, r)
        cells = " | ".join(f"{ri:.3f} | {ri - r0:+.3f} | {h:.3f}" for ri, r0, h in zip(r, ref[target], hi))
        print(f"| {target if m == target else ''} | {m} | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
