"""``wildxray synth`` end to end: synthetic datasets, Hydra overrides, and projection into user scans."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from wildxray.cli.synth import main

SMALL = ["image.width=256", "image.height=192"]


def test_synth_writes_dataset_and_summary(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--n", "4", "--seed", "2", "--no-progress", "clean_fraction=0.0", *SMALL]) == 0
    summary = json.loads(capsys.readouterr().out)
    coco = json.loads((tmp_path / "annotations.json").read_text())
    assert summary["contraband_parcels"] == 4 and len(coco["images"]) == 4
    assert sum(summary["instances"].values()) == len(coco["annotations"]) >= 4
    assert len(list((tmp_path / "images").glob("*.png"))) == 4 and len(list((tmp_path / "raw").glob("*.tiff"))) == 4


def test_any_number_of_workers_writes_the_same_bytes(tmp_path, capsys):
    args = ["--n", "5", "--seed", "4", "--no-progress", "clean_fraction=0.2", *SMALL]
    assert main(["--out", str(tmp_path / "one"), "--workers", "1", *args]) == 0
    assert main(["--out", str(tmp_path / "two"), "--workers", "2", *args]) == 0
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file())
    assert len(files) == 5 + 5 + 2
    assert sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*") if p.is_file()) == files
    for rel in files:
        assert (tmp_path / "one" / rel).read_bytes() == (tmp_path / "two" / rel).read_bytes(), rel
    assert main(["--out", str(tmp_path / "bad"), "--workers", "0", *args]) == 2


def test_scanner_override_changes_profile(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--n", "1", "--no-progress", "scanner=compact", *SMALL]) == 0
    coco = json.loads((tmp_path / "annotations.json").read_text())
    assert coco["images"][0]["scanner"] == "compact"


def test_misspelt_override_fails_loudly(tmp_path):
    with pytest.raises(Exception, match="clean_fracton"):
        main(["--out", str(tmp_path), "--n", "1", "clean_fracton=0.2"])


def test_projection_into_user_scans(tmp_path, capsys):
    import tifffile
    from pycocotools import mask as mask_utils

    from wildxray.xray.synth_config import load_synth_config
    from wildxray.xray.synth import ScanSynthesizer
    from wildxray.xray.tip_dataset import render_threat_library

    clean = tmp_path / "clean"
    assert main(["--out", str(clean), "--n", "2", "--no-progress", "clean_fraction=1.0", *SMALL]) == 0
    threats = tmp_path / "threats"
    synth = ScanSynthesizer(load_synth_config(SMALL))
    for k, threat in enumerate(render_threat_library(synth, per_class=1, seed=0)):
        folder = threats / ["ivory", "horn", "scales", "skin", "bone", "live_animal"][threat.label]
        folder.mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(folder / f"t{k}.tiff", threat.image)
    out = tmp_path / "tip"
    capsys.readouterr()
    assert main(["--out", str(out), "--n", "3", "--seed", "1", "--no-progress", "--clean-parcels", str(clean / "raw"),
                 "--threats", str(threats)]) == 0
    coco = json.loads((out / "annotations.json").read_text())
    assert len(coco["annotations"]) >= 3 and all(im["contraband"] for im in coco["images"])
    for im in coco["images"]:
        src = tifffile.imread(im["source"])
        new = tifffile.imread(out / im["raw_file"])
        assert (new <= src).all() and (new < src).sum() > 50  # projection only ever attenuates
        union = np.zeros(src.shape[:2], bool)
        for ann in (a for a in coco["annotations"] if a["image_id"] == im["id"]):
            seg = ann["segmentation"]
            mask = mask_utils.decode({"size": seg["size"], "counts": seg["counts"].encode()}).astype(bool)
            rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
            assert ann["bbox"] == [cols[0], rows[0], cols[-1] + 1 - cols[0], rows[-1] + 1 - rows[0]]
            assert ann["area"] == mask.sum() > 0
            assert (new[mask] < src[mask]).any(axis=1).mean() > 0.9  # the mask is where the threat attenuates
            union |= mask
        # outside the masks only the threat's faint rim (above the air threshold, 0.97) touches the parcel
        # (rim transmission >= 0.97 times the threat scan's own quantum noise: 0.949 seen with the new items)
        assert (new[~union].astype(float) >= 0.93 * src[~union] - 1).all()


def test_bad_threat_folder_is_named(tmp_path):
    (tmp_path / "clean").mkdir()
    tifffile = pytest.importorskip("tifffile")
    tifffile.imwrite(tmp_path / "clean" / "a.tiff", np.full((50, 50, 2), 30000, np.uint16))
    (tmp_path / "threats" / "unicorn").mkdir(parents=True)
    tifffile.imwrite(tmp_path / "threats" / "unicorn" / "x.tiff", np.full((10, 10, 2), 100, np.uint16))
    with pytest.raises(ValueError, match="unicorn.*not a class"):
        main(["--out", str(tmp_path / "o"), "--n", "1", "--clean-parcels", str(tmp_path / "clean"),
              "--threats", str(tmp_path / "threats")])


def test_console_help():
    out = subprocess.run([sys.executable, "-m", "wildxray.cli.main", "synth", "--help"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert "--clean-parcels" in out and "scanner=compact" in out
