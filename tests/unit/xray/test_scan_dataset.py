"""``write_scan_dataset`` (what ``wildxray synth`` calls) refuses what the CLI refuses, before writing."""

from __future__ import annotations

import pytest

from wildxray.xray.scan_dataset import usable_cores, write_scan_dataset


@pytest.mark.parametrize("kwargs, match", [
    ({"n": 0}, "n must be positive"),
    ({"workers": 0}, "workers must be positive"),
    ({"clean_parcels": "clean"}, "go together"),
    ({"threats": "seized"}, "go together"),
])
def test_refusals_write_nothing(kwargs, match, small_cfg, tmp_path) -> None:
    args = {"n": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        write_scan_dataset(tmp_path / "out", args.pop("n"), 0, small_cfg, progress=False, **args)
    assert not (tmp_path / "out").exists()


def test_usable_cores_is_positive() -> None:
    assert usable_cores() >= 1
