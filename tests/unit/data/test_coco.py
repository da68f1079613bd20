"""wildxray.data.coco: loading real COCO folders and naming every invalid record."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest

from wildxray.core.errors import DatasetError
from wildxray.core.image_io import read_image, write_dual_energy_tiff
from wildxray.data.coco import coco_annotation, load_coco, make_coco, save_coco


def _write(path: Path, coco: dict) -> Path:
    path.write_text(json.dumps(coco))  # json writes NaN/Infinity as bare tokens, as real files do
    return path


def test_valid_dataset_loads_with_boxes_labels_and_clean_images(coco_folder) -> None:
    path, _ = coco_folder
    ds = load_coco(path)
    assert len(ds) == 3
    assert ds.class_names == ("ivory", "horn", "scales", "skin", "bone", "live_animal")
    t1, t2, t3 = ds.targets
    np.testing.assert_allclose(t1.boxes, [[10, 5, 30.5, 35], [0, 0, 80, 60]])
    np.testing.assert_array_equal(t1.labels, [0, 2])
    np.testing.assert_array_equal(t1.meta["iscrowd"], [False, True])
    np.testing.assert_allclose(t2.boxes, [[4.25, 7.75, 16.25, 16.75]])
    np.testing.assert_array_equal(t2.labels, [5])
    assert t3.is_clean and t3.image_id == 3
    rec = ds.images[0]
    assert (rec.modality, rec.scanner, rec.contraband) == ("xray", "rapiscan-620", True)
    assert ds.images[2].contraband is False and ds.images[1].modality is None
    assert [a["area"] for a in ds.coco_dict["annotations"]] == [615.0, 4800.0, 108.0]
    assert [a["iscrowd"] for a in ds.coco_dict["annotations"]] == [0, 1, 0]

    image, target = ds[1]
    np.testing.assert_array_equal(image, read_image(path.parent / "img_2.png"))
    assert image.shape == (50, 40, 3) and target.image_id == 2
    np.testing.assert_allclose(target.boxes, t2.boxes)
    assert target.meta["modality"] == "xray"  # records without modality default to X-ray pseudo-colour


def test_image_root_is_where_file_names_resolve(coco_folder, tmp_path: Path) -> None:
    path, coco = coco_folder
    moved = tmp_path / "elsewhere" / "ann.json"
    moved.parent.mkdir()
    _write(moved, coco)
    with pytest.raises(DatasetError, match="image file not found"):
        load_coco(moved)  # next to the json there are no images, and nothing else is searched
    assert len(load_coco(moved, image_root=path.parent)) == 3
    assert len(load_coco(moved, check_files=False)) == 3


def _mutate(coco: dict, kind: str) -> tuple[dict, str]:
    """Break one record; return the dict and the exact message prefix + problem words expected."""
    c = copy.deepcopy(coco)
    anns = {a["id"]: a for a in c["annotations"]}
    if kind == "box outside image":
        anns[1]["bbox"] = [70, 5, 20, 30]  # x + w = 90 > 80 + 1
        return c, "annotation id=1 (img_1.png): bbox [70, 5, 20, 30] (xyxy 70, 5, 90, 35) lies outside the 80x60 image"
    if kind == "non-positive size":
        anns[5]["bbox"] = [4, 4, 0, 9]
        return c, "annotation id=5 (img_2.png): bbox width and height must be positive"
    if kind == "unknown category":
        anns[5]["category_id"] = 9
        return c, "annotation id=5 (img_2.png): unknown category id 9"
    if kind == "missing file":
        c["images"][1]["file_name"] = "gone.png"
        return c, "image id=2 (gone.png): image file not found"
    if kind == "unknown image":
        anns[5]["image_id"] = 42
        return c, "annotation id=5: unknown image id 42"
    if kind == "duplicate annotation id":
        anns[5]["id"] = 1
        return c, "annotation id=1 (img_2.png): duplicate annotation id"
    if kind == "duplicate image id":
        c["images"][2]["id"] = 2
        return c, "image id=2 (img_3.png): duplicate image id"
    if kind == "non-finite":
        anns[1]["bbox"] = [10, math.nan, 5, 5]
        return c, "annotation id=1 (img_1.png): bbox has a non-finite or non-numeric value"
    if kind == "missing key":
        del anns[1]["bbox"]
        return c, "annotation id=1 (img_1.png): missing required key 'bbox'"
    if kind == "category ids with a gap":
        c["categories"][3]["id"] = 8  # "skin", which no annotation uses
        return c, "category ids: must be 1..C without gaps"
    if kind == "contraband false with boxes":
        c["images"][1]["contraband"] = False
        return c, "image id=2 (img_2.png): contraband is false but 1 box(es) are annotated"
    if kind == "unknown modality":
        c["images"][0]["modality"] = "mri"
        return c, "image id=1 (img_1.png): modality 'mri' is not one of"
    raise AssertionError(kind)


KINDS = ["box outside image", "non-positive size", "unknown category", "missing file", "unknown image",
         "duplicate annotation id", "duplicate image id", "non-finite", "missing key", "category ids with a gap",
         "contraband false with boxes", "unknown modality"]


@pytest.mark.parametrize("kind", KINDS)
def test_each_invalid_record_is_named_with_file_record_and_problem(coco_folder, kind: str) -> None:
    path, coco = coco_folder
    broken, expected = _mutate(coco, kind)
    _write(path, broken)
    with pytest.raises(DatasetError) as info:
        load_coco(path)
    assert len(info.value.problems) == 1, str(info.value)
    assert f"{path}: {expected}" in str(info.value)


def test_every_problem_is_listed_not_just_the_first(coco_folder) -> None:
    path, coco = coco_folder
    broken = coco
    expected = []
    for kind in ("box outside image", "unknown category", "duplicate image id", "unknown modality"):
        broken, line = _mutate(broken, kind)
        expected.append(f"{path}: {line}")
    _write(path, broken)
    with pytest.raises(DatasetError) as info:
        load_coco(path)
    message = str(info.value)
    assert len(info.value.problems) == 4
    for line in expected:
        assert line in message


def test_box_within_one_pixel_tolerance_is_clipped_not_rejected(coco_folder) -> None:
    path, coco = coco_folder
    coco["annotations"][0]["bbox"] = [-0.5, 5, 81, 55.5]  # overhangs by 0.5 px on both sides
    ds = load_coco(_write(path, coco))
    np.testing.assert_allclose(ds.targets[0].boxes[0], [0, 5, 80, 60])


def test_broken_json_is_named_with_line(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('{"images": [],\n "annotations": [,]}')
    with pytest.raises(DatasetError, match=r"a\.json: JSON line 2 column"):
        load_coco(path)
    with pytest.raises(FileNotFoundError, match="nope.json"):
        load_coco(tmp_path / "nope.json")


def test_image_whose_size_disagrees_with_its_record_fails_at_read(coco_folder) -> None:
    path, coco = coco_folder
    coco["images"][1]["width"] = 41
    coco["annotations"][2]["bbox"] = [1, 1, 2, 2]
    ds = load_coco(_write(path, coco))
    expected = r"image id=2 \(img_2\.png\): file is 40x50 \(WxH\) but the record says 41x50"
    with pytest.raises(DatasetError, match=expected):
        ds[1]


def test_dual_energy_image_is_encoded_for_the_model(tmp_path: Path) -> None:
    colour = pytest.importorskip("wildxray.core.colour", reason="wildxray.core.colour (another part) not written yet")
    raw = np.random.default_rng(3).integers(2000, 60000, size=(12, 16, 2), dtype=np.uint16)
    write_dual_energy_tiff(tmp_path / "scan.tiff", raw)
    coco = make_coco([{"id": 7, "file_name": "scan.tiff", "width": 16, "height": 12, "modality": "xray_dual"}],
                     [{"id": 1, "image_id": 7, "category_id": 2, "bbox": [1, 2, 3, 4]}], ["ivory", "horn"])
    ds = load_coco(save_coco(coco, tmp_path / "ann.json"))
    image, target = ds[0]
    np.testing.assert_array_equal(image, colour.encode_dual_energy(raw))
    assert target.meta["modality"] == "xray_dual" and target.labels.tolist() == [1]


def test_subset_keeps_only_its_images_and_their_annotations(coco_folder) -> None:
    ds = load_coco(coco_folder[0])
    sub = ds.subset([1, 2])
    assert [r.id for r in sub.images] == [2, 3]
    assert [a["id"] for a in sub.coco_dict["annotations"]] == [5]
    assert sub.targets[1].is_clean and sub.class_names == ds.class_names


def test_save_coco_refuses_invalid_and_round_trips_valid(coco_folder, tmp_path: Path) -> None:
    _, coco = coco_folder
    bad = copy.deepcopy(coco)
    bad["annotations"][0]["category_id"] = 0
    with pytest.raises(DatasetError, match="unknown category id 0"):
        save_coco(bad, tmp_path / "bad.json")
    assert not (tmp_path / "bad.json").exists()
    out = save_coco(coco, tmp_path / "copy.json")
    assert json.loads(out.read_text()) == coco


def test_one_builder_for_every_writer_keeps_their_fields_in_order(tmp_path: Path) -> None:
    """make_coco + coco_annotation + save_coco: what the photo, feedback, YOLO and training writers use."""
    ann = coco_annotation(3, 7, 2, (1, 2, 3, 4), kind="carving")
    assert list(ann) == ["id", "image_id", "category_id", "bbox", "area", "iscrowd", "kind"]
    assert ann["bbox"] == [1, 2, 3, 4] and ann["area"] == 12 and ann["iscrowd"] == 0
    assert coco_annotation(1, 7, 1, [0, 0, 2, 2], area=3.5)["area"] == 3.5
    image = {"id": 7, "file_name": "images/a.png", "width": 16, "height": 12, "contraband": True}
    coco = make_coco([image], [ann], ["ivory", "horn"], info={"seed": 1}, licenses=[], hard_negatives=[])
    assert list(coco) == ["info", "licenses", "images", "annotations", "categories", "hard_negatives"]
    assert list(make_coco([], [], ["ivory"])) == ["info", "images", "annotations", "categories"]
    assert json.loads(save_coco(coco, tmp_path / "a.json").read_text()) == coco
    image["contraband"] = False  # a clean image with a box: refused, nothing written
    with pytest.raises(DatasetError, match="contraband is false"):
        save_coco(coco, tmp_path / "b.json")
    assert not (tmp_path / "b.json").exists()
