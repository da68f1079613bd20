"""``wildxray synth randomise=true``: per-scan scanners in the files, byte-identical for any --workers;
and the training stream's hookup (on by default for training, off for the validation set)."""

from __future__ import annotations

import json

from wildxray.cli.synth import main

SMALL = ["image.width=192", "image.height=144"]
POOL = ["randomise=true", "randomisation.profiles=[default]", "randomisation.pool_size=2"]


def test_randomised_dataset_is_the_same_for_any_worker_count(tmp_path, capsys):
    args = ["--n", "4", "--seed", "6", "--no-progress", *POOL, *SMALL]
    assert main(["--out", str(tmp_path / "one"), "--workers", "1", *args]) == 0
    assert main(["--out", str(tmp_path / "two"), "--workers", "2", *args]) == 0
    one, two = tmp_path / "one", tmp_path / "two"
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert len(files) == 4 + 4 + 2
    for rel in files:
        assert (one / rel).read_bytes() == (two / rel).read_bytes(), rel
    images = json.loads((one / "annotations.json").read_text())["images"]
    assert all(im["scanner"].startswith("randomised/") and "kvp" in im["randomisation"] for im in images)
    assert len({json.dumps(im["randomisation"], sort_keys=True) for im in images}) == 4
    assert json.loads((one / "summary.json").read_text())["randomised"] is True


def test_training_stream_is_randomised_and_validation_is_not():
    from wildxray.hydra_compose import compose_config
    from wildxray.training.data import build_loaders, training_synth_config
    from wildxray.training.distributed import DistInfo

    cfg = compose_config("train", ["output_dir=unused", "train.num_workers=0"])
    assert cfg.data.randomise is True
    not_main = DistInfo(rank=1, world_size=2)  # no validation loader: nothing is written
    loader, _, stream = build_loaders(cfg, None, None, not_main, pin_memory=False)
    assert stream.cfg.randomise is True
    cfg.data.randomise = False
    _, _, stream = build_loaders(cfg, None, None, not_main, pin_memory=False)
    assert stream.cfg.randomise is False
    # the validation set is data.synth with randomisation off: the configured profile
    assert training_synth_config(cfg.data, validation=True).randomise is False
