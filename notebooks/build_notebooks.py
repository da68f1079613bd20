"""Write the three notebooks from the cell sources below (outputs cleared), so diffs stay reviewable.

    .venv/bin/python notebooks/build_notebooks.py           # rewrite notebooks/*.ipynb
    .venv/bin/python notebooks/build_notebooks.py --check   # exit 1 if a committed notebook is stale

Every notebook reads ``WILDXRAY_NB_TINY=1`` (a few small scans, 64 px, 1-2 training steps: what the
tests run) and ``WILDXRAY_NB_OUT`` (where it writes; default ``outputs/notebooks/<name>``). Without
them a notebook runs at sizes that give meaningful pictures and numbers on a laptop CPU.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = '''import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

TINY = os.environ.get("WILDXRAY_NB_TINY", "0") == "1"  # the tests' setting: seconds, meaningless numbers
OUT = Path(os.environ.get("WILDXRAY_NB_OUT", "outputs/notebooks/{name}")).resolve()
OUT.mkdir(parents=True, exist_ok=True)
print("tiny" if TINY else "full", "run, writing to", OUT)'''


def _nb(name: str, cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, src in cells:
        src = src.strip("\n")
        nb.cells.append(new_markdown_cell(src) if kind == "md" else new_code_cell(src))
    for i, cell in enumerate(nb.cells):  # stable ids: rebuilding gives byte-identical files
        cell["id"] = f"{name[:2]}-{i:02d}"
    return nb


XRAY_PHYSICS = [
    ("md", """
# 01 — X-ray physics behind the synthetic scans

wildxray simulates dual-energy parcel scanners from first principles: a tube spectrum (spekpy), material
attenuation (xraydb, Elam tables), a two-layer detector (low-energy front, high-energy rear), Beer–Lambert
along each ray. The operator's colours come from the ratio of the two channels' attenuations, with band
boundaries derived from the same physics. This notebook shows each step with the package's own code
(`wildxray.xray.physics`, `materials`, `colour_bands`, `colour`, `synth`)."""),
    ("code", SETUP.replace("{name}", "01_xray_physics")),
    ("md", """
## Spectra each detector layer sees
`detector_spectra(profile)` runs spekpy for the profile's tube (kVp, anode angle), applies the filtration and
the belt, then weights each energy by what the front (low) and rear (high) scintillators absorb. The three
shipped profiles are in `configs/scanner/`."""),
    ("code", """
from wildxray.xray.synth_config import scanner_profile
from wildxray.xray.physics import detector_spectra

PROFILES = ["default", "compact", "highenergy"]
fig, axes = plt.subplots(1, len(PROFILES), figsize=(13, 3.2), sharey=True)
for ax, name in zip(axes, PROFILES):
    prof = scanner_profile(name)
    sp = detector_spectra(prof)
    for row, label in ((1, "low (front layer)"), (0, "high (rear layer)")):
        ax.plot(sp.energy_kev, sp.weights[row], label=label)
        mean_e = float((sp.energy_kev * sp.weights[row]).sum())
        ax.axvline(mean_e, ls=":", c=ax.lines[-1].get_color())
    ax.set(title=f"{name}: {prof.kvp:g} kVp", xlabel="photon energy (keV)")
axes[0].set_ylabel("detection weight (normalised)")
axes[0].legend()
plt.tight_layout()
plt.show()"""),
    ("md", """
## Attenuation of contraband and look-alikes
Mass attenuation μ/ρ (cm²/g) from the elemental composition in `src/wildxray/xray/materials.yaml`.
Ivory and bone hold calcium phosphate, so their photo-electric rise at low energy is steep; horn (keratin),
skins and plastics are light organics. Their look-alikes overlap them closely: that is why the detector needs
shape and texture, not colour alone."""),
    ("code", """
from wildxray.xray.materials import effective_z, get_material

energy = np.geomspace(15, 160, 200)
MATERIALS = ["dentine_ivory", "cattle_bone", "rhino_horn", "cattle_horn", "pangolin_scale", "salted_hide",
             "polyresin", "wood", "soft_tissue", "aluminium", "iron"]
fig, ax = plt.subplots(figsize=(7, 4.5))
for name in MATERIALS:
    m = get_material(name)
    ax.loglog(energy, m.mass_attenuation(energy), label=f"{name} (Zeff {effective_z(m.fractions):.1f})")
ax.set(xlabel="photon energy (keV)", ylabel="μ/ρ (cm²/g)", title="mass attenuation (xraydb)")
ax.legend(fontsize=7)
plt.show()"""),
    ("md", """
## The colour bands
A pixel's colour class comes from R = A_low / A_high (A = −ln T). For one material R changes with thickness
(beam hardening), so each band boundary is a curve R(A_high), traced by a reference material of effective Z
10 (organic | inorganic) and 18 (inorganic | metal). `derive_colour_bands` recomputes them for a profile; the
default profile's curves are shipped in `colour_bands.json` so the station needs no xraydb. The points are
real materials at growing thickness, through the exact polychromatic model."""),
    ("code", """
from wildxray.core.colour import default_bands
from wildxray.xray.colour_bands import derive_colour_bands
from wildxray.xray.physics import polychromatic_transmission

import json

prof = scanner_profile("default")  # try your own profile: a configs/scanner/*.yaml of your scanner
derived = derive_colour_bands(prof)
(OUT / f"colour_bands_{prof.name}.json").write_text(json.dumps(derived, indent=1))  # the format colour.py reads
shipped = default_bands()
grid = np.asarray(derived["attenuation_grid"])
fig, ax = plt.subplots(figsize=(7, 4.5))
for (name, curve), ref in zip(derived["curves"].items(), shipped.curves):
    ax.plot(grid, curve, label=f"{name} (derived)")
    ax.plot(shipped.attenuation_grid, ref, "k:", lw=1)
thicknesses = np.geomspace(0.2, 12, 12 if not TINY else 5)  # cm
for name, marker in (("dentine_ivory", "o"), ("rhino_horn", "s"), ("pangolin_scale", "^"), ("polyresin", "x"),
                     ("wood", "+"), ("aluminium", "d")):
    t = np.array([polychromatic_transmission(prof, [(name, cm)]) for cm in thicknesses])
    a = -np.log(t)
    ax.scatter(a[:, 0], a[:, 1] / a[:, 0], marker=marker, label=name, s=18)
ax.set(xscale="log", xlabel="A_high = −ln T_high", ylabel="R = A_low / A_high",
       title="band boundaries (dotted: shipped colour_bands.json)")
ax.legend(fontsize=7, ncol=2)
plt.show()
print("largest difference derived vs shipped:",
      float(np.abs(np.array(list(derived["curves"].values())) - shipped.curves).max()))"""),
    ("md", """
The resulting colour map (`colour_from_attenuation`, the exact rule behind `encode_dual_energy`): hue from R,
brightness and saturation from attenuation, black where the low channel is nearly opaque."""),
    ("code", """
from wildxray.core.colour import colour_from_attenuation

a_high = np.geomspace(0.02, 6, 300)[None, :].repeat(200, 0)
ratio = np.linspace(1.0, 4.0, 200)[:, None].repeat(300, 1)
rgb = colour_from_attenuation(a_high, a_high * ratio, shipped)
plt.figure(figsize=(7, 4))
plt.imshow(rgb, origin="lower", aspect="auto", extent=[np.log10(0.02), np.log10(6), 1.0, 4.0])
plt.xlabel("log10 A_high")
plt.ylabel("R = A_low / A_high")
plt.title("pseudo-colour as a function of attenuation and ratio")
plt.show()"""),
    ("md", """
## Sample scans
`ScanSynthesizer.sample` draws a parcel (box, envelope or poly bag), clutter, look-alikes and, in half of the
parcels, contraband, renders raw dual energy (uint16, two channels) and encodes it to the operator view.
Boxes are drawn on contraband only; look-alikes carry none."""),
    ("code", """
from wildxray.types import CLASS_NAMES
from wildxray.core.colour import grey_view
from wildxray.xray.synth_config import load_synth_config
from wildxray.xray.contact_sheet import draw_boxes
from wildxray.xray.synth import ScanSynthesizer

size = ["image.width=256", "image.height=192"] if TINY else []
n = 2 if TINY else 4
fig, axes = plt.subplots(2, n, figsize=(4 * n, 6))
for j, scanner in enumerate(["default", "compact"]):
    synth = ScanSynthesizer(load_synth_config([f"scanner={scanner}", "clean_fraction=0.2", *size]))
    for i in range(n // 2):
        scan = synth.sample(np.random.default_rng([7, i]))
        axes[j, 2 * i].imshow(draw_boxes(scan.image, scan.target.boxes, scan.target.labels))
        axes[j, 2 * i].set_title(f"{scanner}: " + (", ".join(CLASS_NAMES[k] for k in scan.target.labels) or "clean"),
                                 fontsize=8)
        axes[j, 2 * i + 1].imshow(grey_view(scan.raw))
        axes[j, 2 * i + 1].set_title("high-energy grey view", fontsize=8)
for ax in axes.flat:
    ax.axis("off")
plt.tight_layout()
plt.show()
print("raw:", scan.raw.shape, scan.raw.dtype, "-> model input:", scan.image.shape, scan.image.dtype)"""),
]


TRAIN_EVALUATE = [
    ("md", """
# 02 — Train and evaluate a detector on synthetic scans

synthesise → train (`wildxray.training.train.train`, the function behind `wildxray train`) → export ONNX →
evaluate exactly as a station runs the model (`run_onnx_evaluation`: COCO mAP, parcel ROC, detection rate at
fixed false-alarm rates, `report.html`). The full run takes about 10 minutes on a laptop CPU; with
`WILDXRAY_NB_TINY=1` it takes seconds and its numbers mean nothing."""),
    ("code", SETUP.replace("{name}", "02_train_and_evaluate")),
    ("code", """
import json

from wildxray.hydra_compose import compose_config
from wildxray.xray.synth_config import load_synth_config
from wildxray.xray.synth import ensure_dataset

if TINY:
    SPLITS, SYNTH, SIZE, MODEL = {"train": 12, "val": 8, "test": 8}, ["image.width=256", "image.height=192"], 64, "small"
    TRAIN = ["train=smoke", "train.max_steps=2", "train.num_workers=0"]
else:
    SPLITS, SYNTH, SIZE, MODEL = {"train": 800, "val": 150, "test": 200}, [], 320, "small"
    TRAIN = ["train.epochs=40", "train.time_limit_minutes=8", "train.batch_size=16", "train.early_stopping.patience=0"]

synth_cfg = load_synth_config(SYNTH)
data = {}
for k, (split, n) in enumerate(SPLITS.items()):
    ann = OUT / "data" / split / "annotations.json"
    # written once; rewritten if the generator, config or size changed. Distinct seeds: no test scan is a training scan
    ensure_dataset(ann.parent, n=n, seed=1000 * k, cfg=synth_cfg, progress=False)
    data[split] = ann
    print(split, json.loads((ann.parent / "summary.json").read_text())["instances"])"""),
    ("code", """
from wildxray.training.train import train

cfg = compose_config("train", ["data=coco", f"data.train.ann_file={data['train']}", f"data.val.ann_file={data['val']}",
                               f"model={MODEL}", f"input_size={SIZE}", "train.progress=false", *TRAIN,
                               f"output_dir={OUT / 'train'}"])
summary = train(cfg)
print(f"{summary['steps']} steps, {summary['epochs_run']} epochs, stopped by {summary['stop_reason']}, "
      f"best val {summary['metric']} {summary['best_metric']:.3f}")"""),
    ("code", """
hist = summary["history"]
epochs = [r["epoch"] for r in hist]
fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.2))
for key in ("train_loss_cls", "train_loss_box", "train_loss_dfl"):
    if key in hist[0]:
        a.plot(epochs, [r[key] for r in hist], marker="o", label=key.removeprefix("train_"))
a.set(xlabel="epoch", title="training losses")
a.legend()
for key in ("val_mAP50", "val_mAP"):
    b.plot(epochs, [r.get(key, np.nan) for r in hist], marker="o", label=key)
b.set(xlabel="epoch", title="validation (PyTorch model)")
b.legend()
plt.tight_layout()
plt.show()"""),
    ("md", """
## Export and evaluate as the station runs it
The ONNX graph holds normalisation, decoding and NMS; evaluation letterboxes with the runtime's own
`letterbox` and runs onnxruntime, so these figures are the station's."""),
    ("code", """
from wildxray.evaluation.evaluate import run_onnx_evaluation
from wildxray.export.checkpoint_export import export_checkpoint

model = export_checkpoint(summary["best_checkpoint"], OUT / "model" / "nb02.onnx", name="nb02")
result = run_onnx_evaluation(model, data["test"], OUT / "report", n_bootstrap=100 if TINY else 1000, threads=None)
def fmt(v):  # COCO metrics are None when a set has no boxes to score
    return "n/a" if v is None else f"{v:.3f}"

print(result.headline())
print(f"COCO mAP50 {fmt(result.coco['mAP50'])}   mAP50-95 {fmt(result.coco['mAP'])}")
for name, ap50 in result.coco["per_class_AP50"].items():
    print(f"  AP50 {name:12s} {fmt(ap50)}")
print("report:", OUT / "report" / "report.html")"""),
    ("code", """
%matplotlib inline
# ^ the evaluation report switches matplotlib to its Agg backend; this brings inline figures back
p = result.parcel
fig, ax = plt.subplots(figsize=(4.5, 4.5))
ax.plot(p.roc["fpr"], p.roc["tpr"], drawstyle="steps-post", label=f"AUC {p.auc.value:.3f}")
for pt in p.at_far:
    if pt.detection_rate.value is not None:
        ax.scatter([pt.achieved_far], [pt.detection_rate.value], s=15)
        ax.annotate(f"{100 * pt.target_far:g} % FAR", (pt.achieved_far, pt.detection_rate.value), fontsize=7)
ax.plot([0, 1], [0, 1], "k:", lw=0.8)
ax.set(xlabel="false-alarm rate (clean parcels)", ylabel="detection rate (contraband parcels)",
       title=f"parcel ROC: {p.n_contraband} contraband, {p.n_clean} clean")
ax.legend(loc="lower right")
plt.show()"""),
]


FINETUNE = [
    ("md", """
# 03 — Fine-tune on your own data

A customs office has its own scanner, its own seizures and sometimes its own classes. This notebook imports a
COCO set and a YOLO set, projects seized items into clean parcel scans (threat image projection, TIP),
fine-tunes a pre-trained checkpoint with `experiment=finetune` and compares before and after on the same test
scans. Here "your data" is stood in for by synthetic scans of another scanner profile (`compact`: another
tube, detector and colour palette); point the paths at your own folders to do it for real."""),
    ("code", SETUP.replace("{name}", "03_finetune_your_data")),
    ("code", """
import json

from wildxray.hydra_compose import compose_config
from wildxray.paths import repo_root
from wildxray.xray.synth_config import load_synth_config
from wildxray.xray.synth import ensure_dataset

if TINY:
    N, SYNTH, SIZE, THREATS_PER_CLASS = {"train": 12, "val": 6, "test": 8, "clean": 4}, ["image.width=256", "image.height=192"], 64, 1
    TRAIN = ["train=smoke", "train.max_steps=2", "train.num_workers=0", "train.batch_size=2"]
else:
    N, SYNTH, SIZE, THREATS_PER_CLASS = {"train": 200, "val": 60, "test": 200, "clean": 60}, [], None, 4
    TRAIN = ["train.epochs=15", "train.time_limit_minutes=8"]

# "Your" scans: another scanner profile than the pre-trained model saw.
user = load_synth_config(["scanner=compact", *SYNTH])
for k, split in enumerate(["train", "val", "test"]):
    ensure_dataset(OUT / "user" / split, n=N[split], seed=50_000 + 1000 * k, cfg=user, progress=False)"""),
    ("md", """
## Import a COCO set and a YOLO set
`load_coco` validates every record and names each bad one (file, record, problem); nothing is dropped
silently. A YOLO folder (Ultralytics layout with `data.yaml`) converts losslessly to COCO and back."""),
    ("code", """
from wildxray.data.coco import load_coco
from wildxray.data.yolo import coco_to_yolo, yolo_to_coco

coco = load_coco(OUT / "user" / "train" / "annotations.json")
print(f"COCO: {len(coco)} images, classes {coco.class_names}")

yolo_root = OUT / "user_yolo"
data_yaml = coco_to_yolo(OUT / "user" / "val" / "annotations.json", yolo_root, split="val")
print("YOLO folder:", sorted(p.name for p in yolo_root.iterdir()), "|", data_yaml.read_text().strip()[:120])
back = yolo_to_coco(yolo_root, out_json=OUT / "user_yolo" / "val.json", split="val")
print(f"YOLO -> COCO: {len(back['images'])} images, {len(back['annotations'])} boxes, "
      f"classes {[c['name'] for c in back['categories']]}")

broken = json.loads((OUT / "user" / "train" / "annotations.json").read_text())
broken["annotations"][0]["bbox"][2] = -5  # what a bad export looks like
(OUT / "broken.json").write_text(json.dumps(broken))
try:
    load_coco(OUT / "broken.json", image_root=OUT / "user" / "train")
except Exception as exc:  # DatasetError names the file, the record and the problem
    print(type(exc).__name__, "->", " ".join(str(exc).split())[:300])"""),
    ("md", """
## Threat image projection into your clean scans
Seized items scanned alone on the empty belt (here rendered by the simulator) are multiplied into clean parcel
scans in transmission space; the result is a labelled COCO set. The clean scans' scanner profile (here
`compact`) gives the physics that corrects the projection for beam hardening. On the command line it is one line:

    wildxray synth --out data/tip --n 500 --clean-parcels my_scans/clean --threats my_scans/seized scanner=compact"""),
    ("code", """
from wildxray.core.image_io import write_dual_energy_tiff
from wildxray.types import CLASS_NAMES
from wildxray.xray.scan_dataset import write_scan_dataset
from wildxray.xray.synth import ScanSynthesizer
from wildxray.xray.tip_dataset import render_threat_library

clean = OUT / "my_scans" / "clean"
ensure_dataset(clean, n=N["clean"], seed=60_000,  # clean parcels only: clean_fraction=1
               cfg=load_synth_config(["scanner=compact", "clean_fraction=1.0", *SYNTH]), progress=False)
seized = OUT / "my_scans" / "seized"
for k, threat in enumerate(render_threat_library(ScanSynthesizer(user), THREATS_PER_CLASS, seed=3)):
    write_dual_energy_tiff(seized / CLASS_NAMES[threat.label] / f"item_{k:03d}.tiff", threat.image)

# what `wildxray synth --clean-parcels ... --threats ... scanner=compact` calls (`user`: the clean scans' config)
summary = write_scan_dataset(OUT / "tip", N["train"], 0, user, clean_parcels=clean / "raw", threats=seized,
                             progress=False)
print(summary["scans"], "projected scans,", summary["contraband_parcels"], "with contraband")"""),
    ("code", """
from wildxray.xray.contact_sheet import draw_boxes

tip = load_coco(OUT / "tip" / "annotations.json")
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
for ax, i in zip(axes, range(3)):
    image, target = tip[i]
    ax.imshow(draw_boxes(image, target.boxes, target.labels))
    ax.set_title(", ".join(CLASS_NAMES[k] for k in target.labels) or "clean", fontsize=8)
    ax.axis("off")
plt.show()"""),
    ("md", """
## The starting checkpoint
The shipped model `export/wildxray-xray.pt` when it is there (a full run), otherwise one trained here on
scans of the default scanner, so the notebook runs anywhere. `WILDXRAY_NB_CHECKPOINT` picks another."""),
    ("code", """
from wildxray.training.train import train

shipped = Path(os.environ.get("WILDXRAY_NB_CHECKPOINT", repo_root() / "export" / "wildxray-xray.pt"))
if shipped.is_file() and not TINY:
    start, model_cfg = shipped, []
    print("starting from", start)
else:
    base = OUT / "base"
    for k, split in enumerate(["train", "val"]):
        ensure_dataset(base / split, n=N[split], seed=70_000 + 1000 * k, cfg=load_synth_config(SYNTH), progress=False)
    model_cfg = ["model=small", f"input_size={SIZE or 320}"]
    summary = train(compose_config("train", ["data=coco", f"data.train.ann_file={base / 'train' / 'annotations.json'}",
                                             f"data.val.ann_file={base / 'val' / 'annotations.json'}", *model_cfg,
                                             "train.progress=false", *TRAIN, f"output_dir={base / 'run'}"]))
    start = Path(summary["last_checkpoint"])
    print("no shipped model here: trained a starting checkpoint,", start)"""),
    ("md", """
## Fine-tune and compare on the same test scans
`experiment=finetune`: weights from the checkpoint (classes matched by name), the first backbone stages
frozen for the first epochs, a learning rate 10x below training from scratch. Training data: your labelled
scans plus the TIP scans."""),
    ("code", """
from wildxray.evaluation.evaluate import run_onnx_evaluation
from wildxray.export.checkpoint_export import export_checkpoint

# Your labelled scans and the projected ones, as one COCO file (ids renumbered, paths made absolute).
merged = {"images": [], "annotations": [], "categories": coco.coco_dict["categories"]}
for ann_file in (OUT / "user" / "train" / "annotations.json", OUT / "tip" / "annotations.json"):
    part = json.loads(ann_file.read_text())
    offset = len(merged["images"])
    for im in part["images"]:
        merged["images"].append({**im, "id": im["id"] + offset, "file_name": str(ann_file.parent / im["file_name"])})
    for a in part["annotations"]:
        merged["annotations"].append({**a, "id": len(merged["annotations"]) + 1, "image_id": a["image_id"] + offset})
(OUT / "finetune_train.json").write_text(json.dumps(merged))

ft = train(compose_config("train", ["experiment=finetune", f"data.train.ann_file={OUT / 'finetune_train.json'}",
                                    f"data.val.ann_file={OUT / 'user' / 'val' / 'annotations.json'}",
                                    f"train.init_from={start}", *model_cfg, "train.progress=false", *TRAIN,
                                    f"output_dir={OUT / 'finetune'}"]))

results = {}
for name, ckpt in (("before", start), ("after", Path(ft["best_checkpoint"]))):
    onnx_path = export_checkpoint(ckpt, OUT / "model" / f"{name}.onnx", name=name)
    results[name] = run_onnx_evaluation(onnx_path, OUT / "user" / "test" / "annotations.json", OUT / f"eval_{name}",
                                        n_bootstrap=100 if TINY else 1000)
def fmt(v):  # COCO metrics are None when a set has no boxes to score
    return "n/a" if v is None else f"{v:.3f}"

for name, r in results.items():
    print(f"{name:6s}  mAP50 {fmt(r.coco['mAP50'])}  mAP50-95 {fmt(r.coco['mAP'])}  | {r.headline()}")"""),
    ("code", """
%matplotlib inline
# ^ the evaluation report switches matplotlib to its Agg backend; this brings inline figures back
fig, ax = plt.subplots(figsize=(4.5, 4.5))
for name, r in results.items():
    ax.plot(r.parcel.roc["fpr"], r.parcel.roc["tpr"], drawstyle="steps-post",
            label=f"{name}: AUC {r.parcel.auc.value:.3f}")
ax.plot([0, 1], [0, 1], "k:", lw=0.8)
ax.set(xlabel="false-alarm rate", ylabel="detection rate", title="same test scans, before vs after")
ax.legend(loc="lower right")
plt.show()"""),
    ("md", """
From here: `wildxray calibrate` sets per-class thresholds for your false-alarm budget on your validation scans,
and the `.onnx` goes to the station. Inspectors' verdicts in the viewer export as COCO (`wildxray feedback`),
which is the next fine-tuning set."""),
]

NOTEBOOKS = {
    "01_xray_physics.ipynb": ("01_xray_physics", XRAY_PHYSICS),
    "02_train_and_evaluate.ipynb": ("02_train_and_evaluate", TRAIN_EVALUATE),
    "03_finetune_your_data.ipynb": ("03_finetune_your_data", FINETUNE),
}


def build() -> dict[str, str]:
    """File name -> notebook JSON text (outputs cleared)."""
    return {f: nbformat.writes(_nb(name, cells)) + "\n" for f, (name, cells) in NOTEBOOKS.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="exit 1 if a committed notebook differs from this script")
    args = p.parse_args(argv)
    stale = []
    for fname, text in build().items():
        path = HERE / fname
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(fname)
        else:
            path.write_text(text)
            print("wrote", path)
    if stale:
        print("stale (run notebooks/build_notebooks.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
