"""The simulator's config is part of the training run's tree (``data.synth``): composed once, saved in
full with the run, and enough on its own to rebuild the training stream scan for scan."""

from __future__ import annotations

import subprocess
import sys
from itertools import islice
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from wildxray.hydra_compose import compose_config
from wildxray.paths import config_dir
from wildxray.training.data import training_synth_config
from wildxray.xray.stream import SyntheticStream

# small scans, a randomisation pool of two training profiles: a few seconds of physics set-up
SMALL = ["data.synth.image.width=160", "data.synth.image.height=120", "data.synth.randomisation.pool_size=0",
         "data.synth.randomisation.profiles=[default,compact]"]


def _profile(name: str) -> dict:
    return yaml.safe_load((config_dir() / "scanner" / f"{name}.yaml").read_text())


def test_the_train_tree_holds_the_simulators_whole_config() -> None:
    cfg = compose_config("train", ["data=synthetic", "output_dir=unused"])
    assert cfg.data.synth.scanner.kvp == _profile("default")["kvp"]
    assert list(cfg.data.synth.content.clutter) == [6, 16]
    assert "physics" in cfg.data.synth.randomisation and cfg.data.synth.tip.beam_hardening_correction is True
    # exactly configs/synth.yaml: the stream randomised (data.randomise), the validation set not
    synth = OmegaConf.to_container(compose_config("synth"), resolve=True)
    assert OmegaConf.to_container(training_synth_config(cfg.data, validation=True)) == synth
    assert OmegaConf.to_container(training_synth_config(cfg.data)) == {**synth, "randomise": True}
    assert training_synth_config(compose_config("train", ["data.randomise=false", "output_dir=unused"]).data).randomise is False

    other = compose_config("train", ["scanner@data.synth.scanner=compact", "data.synth.content.clutter=[0,2]",
                                     "output_dir=unused"])
    assert other.data.synth.scanner.name == "compact" and other.data.synth.scanner.kvp == _profile("compact")["kvp"]
    assert list(other.data.synth.content.clutter) == [0, 2]
    with pytest.raises(Exception, match="clutterr"):  # struct mode: a misspelt key fails
        compose_config("train", ["data.synth.content.clutterr=[0,2]", "output_dir=unused"])


def test_the_old_override_list_and_a_profile_name_raise_saying_what_to_write() -> None:
    old = compose_config("train", ["data.synth_overrides=['image.width=160']", "output_dir=unused"])
    with pytest.raises(ValueError, match=r"data.synth_overrides was removed.*data\.synth\.image\.width=160"):
        training_synth_config(old.data)
    named = compose_config("train", ["data.synth.scanner=compact", "output_dir=unused"])
    with pytest.raises(ValueError, match=r"scanner@data\.synth\.scanner="):
        training_synth_config(named.data)


def _scans(data_cfg, n: int = 3) -> list[tuple[bytes, bytes, list]]:
    stream = SyntheticStream(training_synth_config(data_cfg), seed=7)
    return [(image.numpy().tobytes(), t["class_map"].numpy().tobytes(), t["boxes"].tolist())
            for image, t in islice(iter(stream), n)]


def test_a_stream_from_the_saved_config_alone_gives_the_same_scans(tmp_path: Path) -> None:
    cfg = compose_config("train", ["data=synthetic", *SMALL, f"output_dir={tmp_path}"])
    (tmp_path / "hydra.yaml").write_text(OmegaConf.to_yaml(cfg))  # as .hydra/config.yaml: interpolations kept
    (tmp_path / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))  # as train() writes it
    scans = _scans(cfg.data)
    assert any(boxes for _, _, boxes in scans)
    for saved in ("hydra.yaml", "config.yaml"):
        loaded = OmegaConf.load(tmp_path / saved)
        assert training_synth_config(loaded.data).randomise is True
        assert _scans(loaded.data) == scans, saved


def test_train_cfg_job_prints_the_simulators_config() -> None:
    proc = subprocess.run([sys.executable, "-m", "wildxray.cli.train", "--cfg", "job", "--resolve", "data=synthetic",
                           "scanner@data.synth.scanner=compact"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    job = yaml.safe_load(proc.stdout)
    assert job["data"]["synth"]["scanner"]["kvp"] == _profile("compact")["kvp"]
    assert job["data"]["synth"]["content"]["clutter"] == [6, 16]
    assert job["data"]["synth"]["randomise"] is True
