"""The notebooks run top to bottom on their tiny setting (``WILDXRAY_NB_TINY=1``) and match their generator.

Each runs with nbclient in a kernel on this interpreter (a kernelspec written to a temp dir, so the
venv's Python runs the cells whatever ``python`` is on PATH), in a temp working dir; any cell error fails.
"""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from wildxray.paths import repo_root

NOTEBOOKS = repo_root() / "notebooks"
NAMES = ["01_xray_physics.ipynb", "02_train_and_evaluate.ipynb", "03_finetune_your_data.ipynb"]
CELL_TIMEOUT_S = 600


@pytest.fixture
def kernel_env(tmp_path, monkeypatch) -> str:
    """A kernelspec running ``sys.executable``; the notebook's environment set for a tiny run."""
    spec = tmp_path / "jupyter" / "kernels" / "wildxray-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "wildxray tests", "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("WILDXRAY_NB_TINY", "1")
    monkeypatch.setenv("WILDXRAY_NB_OUT", str(tmp_path / "out"))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend puts figures in outputs
    # Tiny convolutions gain nothing from threads, and OpenMP spin-waits when the cores are shared.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return "wildxray-test"


def test_committed_notebooks_match_the_generator_and_have_no_outputs():
    proc = subprocess.run([sys.executable, str(NOTEBOOKS / "build_notebooks.py"), "--check"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in NAMES:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code and all(not c.outputs and c.execution_count is None for c in code), name


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_without_error(name, kernel_env, tmp_path):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(nb, kernel_name=kernel_env, timeout=CELL_TIMEOUT_S,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    plotting = [c for c in code if "plt.show()" in c.source]
    assert plotting
    for cell in plotting:  # every figure reached the notebook (no backend swallowed it)
        assert any("image/png" in o.get("data", {}) for o in cell.outputs), f"{name}: no figure from\n{cell.source}"
    assert any((tmp_path / "out").iterdir()), "the notebook wrote nothing under WILDXRAY_NB_OUT"
