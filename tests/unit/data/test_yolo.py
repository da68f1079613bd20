"""wildxray.data.yolo: COCO <-> YOLO round trips on real folders, and bad rows named by file and line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.unit.data.builders import solid_image
from wildxray.core.errors import DatasetError
from wildxray.core.image_io import write_image
from wildxray.data.coco import load_coco
from wildxray.data.yolo import coco_to_yolo, read_class_names, yolo_to_coco


def _boxes_by_file(coco: dict) -> dict[str, list[tuple[int, list[float]]]]:
    names = {img["id"]: Path(img["file_name"]).name for img in coco["images"]}
    out: dict[str, list] = {n: [] for n in names.values()}
    for a in coco["annotations"]:
        out[names[a["image_id"]]].append((a["category_id"], list(a["bbox"])))
    return out


def test_coco_to_yolo_to_coco_is_lossless(coco_folder, tmp_path: Path) -> None:
    path, coco = coco_folder
    yaml_path = coco_to_yolo(path, tmp_path / "yolo", split="train")
    root = tmp_path / "yolo"
    assert sorted(p.name for p in (root / "images" / "train").iterdir()) == ["img_1.png", "img_2.png", "img_3.png"]
    assert (root / "labels" / "train" / "img_3.txt").read_text() == ""  # the clean image is an explicit negative
    data = yaml.safe_load(yaml_path.read_text())
    assert data["train"] == "images/train" and data["nc"] == 6 and data["names"][5] == "live_animal"

    back = yolo_to_coco(root, out_json=tmp_path / "back.json", split="train")
    assert [c["name"] for c in back["categories"]] == [c["name"] for c in coco["categories"]]
    assert {Path(i["file_name"]).name: (i["width"], i["height"]) for i in back["images"]} == {
        i["file_name"]: (i["width"], i["height"]) for i in coco["images"]}
    before, after = _boxes_by_file(coco), _boxes_by_file(back)
    assert before.keys() == after.keys()
    for name in before:
        assert [c for c, _ in after[name]] == [c for c, _ in before[name]], name
        np.testing.assert_allclose([b for _, b in after[name]] or np.zeros((0, 4)),
                                   [b for _, b in before[name]] or np.zeros((0, 4)), atol=1e-6, err_msg=name)
    # The written file is a loadable, validated COCO dataset over the YOLO images.
    ds = load_coco(tmp_path / "back.json", image_root=root)
    assert len(ds) == 3 and sum(t.is_clean for t in ds.targets) == 1


def test_yolo_to_coco_to_yolo_reproduces_the_label_rows(tmp_path: Path) -> None:
    src = tmp_path / "src"
    rows = {
        "a": "0 0.5 0.5 0.25 0.125\n3 0.123457 0.876543 0.2 0.1\n",
        "b": "5 0.05 0.95 0.1 0.1\n",  # touches two image edges
        "c": "",
    }
    for stem, text in rows.items():
        write_image(src / "images" / "val" / f"{stem}.jpg", solid_image(48, 64, (90, 30, 10)))
        (src / "labels" / "val").mkdir(parents=True, exist_ok=True)
        (src / "labels" / "val" / f"{stem}.txt").write_text(text)
    (src / "data.yaml").write_text(yaml.safe_dump({"names": {i: f"c{i}" for i in range(6)}}))

    coco = yolo_to_coco(src, split="val")
    (tmp_path / "coco.json").write_text(json.dumps(coco))
    coco_to_yolo(tmp_path / "coco.json", tmp_path / "out", image_root=src, split="val")
    for stem, text in rows.items():
        written = (tmp_path / "out" / "labels" / "val" / f"{stem}.txt").read_text()
        want = np.array([ln.split() for ln in text.splitlines()], float).reshape(-1, 5)
        got = np.array([ln.split() for ln in written.splitlines()], float).reshape(-1, 5)
        np.testing.assert_allclose(got, want, atol=1e-9, err_msg=stem)
    assert read_class_names(tmp_path / "out") == [f"c{i}" for i in range(6)]


def test_flat_layout_with_classes_txt_and_unlabelled_image(tmp_path: Path) -> None:
    write_image(tmp_path / "images" / "x.png", solid_image(10, 20, (1, 2, 3)))
    write_image(tmp_path / "images" / "y.png", solid_image(10, 20, (1, 2, 3)))
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "x.txt").write_text("1 0.5 0.5 0.5 0.4\n")
    (tmp_path / "classes.txt").write_text("ivory\nhorn\n")
    coco = yolo_to_coco(tmp_path)
    assert [c["name"] for c in coco["categories"]] == ["ivory", "horn"]
    assert [i["file_name"] for i in coco["images"]] == ["images/x.png", "images/y.png"]
    (ann,) = coco["annotations"]
    assert ann["category_id"] == 2 and ann["image_id"] == 1
    np.testing.assert_allclose(ann["bbox"], [5, 3, 10, 4])


def test_every_bad_row_is_named_by_file_and_line(tmp_path: Path) -> None:
    write_image(tmp_path / "images" / "train" / "p.png", solid_image(10, 10, (0, 0, 0)))
    label = tmp_path / "labels" / "train" / "p.txt"
    label.parent.mkdir(parents=True)
    label.write_text(
        "0 0.5 0.5 0.2 0.2\n"  # fine
        "0 0.5 0.5 0.2\n"  # line 2: 4 fields
        "7 0.5 0.5 0.2 0.2\n"  # line 3: class out of range
        "1 nan 0.5 0.2 0.2\n"  # line 4: non-finite
        "1 1.2 0.5 0.2 0.2\n"  # line 5: outside [0, 1]
        "1 0.95 0.5 0.2 0.2\n"  # line 6: right edge at 1.05
    )
    (tmp_path / "labels" / "train" / "orphan.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    with pytest.raises(DatasetError) as info:
        yolo_to_coco(tmp_path, class_names=["ivory", "horn"], split="train")
    msg = str(info.value)
    assert len(info.value.problems) == 6, msg
    expected = [
        (2, "expected 5 fields"),
        (3, "class 7 out of range 0..1"),
        (4, "non-finite"),
        (5, "coordinates must lie in [0, 1]"),
        (6, "box edges (0.850000, 0.400000, 1.050000, 0.600000) fall outside [0, 1]"),
    ]
    for line, words in expected:
        assert f"{label}: line {line}: {words}" in msg
    assert f"{tmp_path / 'labels' / 'train' / 'orphan.txt'}: label file: no image" in msg


def test_missing_class_names_and_unreadable_image_are_reported(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "bad.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DatasetError, match="no data.yaml or classes.txt"):
        yolo_to_coco(tmp_path)
    with pytest.raises(DatasetError, match=r"bad\.jpg: image file: not_an_image"):
        yolo_to_coco(tmp_path, class_names=["ivory"])


def test_exporting_a_second_split_merges_data_yaml(coco_folder, tmp_path: Path) -> None:
    ds = load_coco(coco_folder[0])
    coco_to_yolo(ds.subset([0, 1]), tmp_path / "y", split="train")
    data = yaml.safe_load(coco_to_yolo(ds.subset([2]), tmp_path / "y", split="val", link="symlink").read_text())
    assert data["train"] == "images/train" and data["val"] == "images/val"
    assert (tmp_path / "y" / "images" / "val" / "img_3.png").is_symlink()
