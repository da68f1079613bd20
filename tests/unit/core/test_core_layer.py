"""``wildxray.core`` is the bottom layer: it imports nothing of wildxray outside itself; and no
package imports one drawn above it in docs/internals.md ("Layers").

Checked on the source with ``ast`` (every ``import`` and ``from ... import`` of every module, at any
depth, relative imports resolved), so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import wildxray.core

CORE = Path(wildxray.core.__file__).parent
PACKAGE = CORE.parent
#: docs/internals.md "Layers", bottom (0) to top: a part imports only parts of a lower layer (and itself).
LAYERS: dict[str, int] = {
    "core": 0, "types": 0, "paths": 0, "gitinfo": 0, "hydra_compose": 0, "__init__": 0,
    "data": 1, "xray": 2, "photo": 2, "runtime": 3, "models": 3, "export": 4, "viewer": 4,
    "evaluation": 5, "station": 5, "training": 6, "demo_pipeline": 7, "cli": 8,
}
#: What core may import besides itself and the standard library (tifffile, pydicom: lazily).
THIRD_PARTY = {"numpy", "cv2", "tifffile", "pydicom"}


def _imported_modules(path: Path) -> set[str]:
    # The package a relative import starts from: the module's own for __init__.py, else its parent.
    package = ["wildxray", *path.relative_to(PACKAGE).with_suffix("").parts][:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = package[: len(package) - node.level + 1]
                names.add(".".join([*base, node.module] if node.module else base))
            else:
                names.add(node.module)
    return names


def _core_modules() -> list[Path]:
    modules = sorted(CORE.rglob("*.py"))
    assert {p.stem for p in modules} >= {"image_io", "image_header", "errors", "letterbox", "colour", "atomic_write"}
    return modules


def test_core_imports_nothing_of_wildxray_outside_core() -> None:
    outside = {
        f"{path.relative_to(CORE)}: {name}"
        for path in _core_modules()
        for name in _imported_modules(path)
        if name.split(".")[0] == "wildxray" and not (name == "wildxray.core" or name.startswith("wildxray.core."))
    }
    assert not outside, f"wildxray.core must stand alone; it imports {sorted(outside)}"


def test_core_imports_only_the_standard_library_numpy_and_opencv() -> None:
    foreign = {
        f"{path.relative_to(CORE)}: {name}"
        for path in _core_modules()
        for name in _imported_modules(path)
        if (top := name.split(".")[0]) != "wildxray" and top not in sys.stdlib_module_names | THIRD_PARTY
    }
    assert not foreign, f"wildxray.core imports {sorted(foreign)}"


def test_the_ast_check_sees_lazy_and_relative_imports(tmp_path: Path, monkeypatch) -> None:
    fake = tmp_path / "core"
    fake.mkdir()
    (fake / "bad.py").write_text("def f():\n    from wildxray.xray import physics\n    from ..types import Boxes\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path)
    assert _imported_modules(fake / "bad.py") == {"wildxray.xray", "wildxray.types"}


def test_no_part_of_wildxray_imports_a_layer_above_its_own() -> None:
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        part = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        assert part in LAYERS, f"{part}: add it to LAYERS here and to docs/internals.md's Layers"
        for name in _imported_modules(path):
            other = name.split(".")[1] if name.startswith("wildxray.") else None
            # Above the bottom, two parts of one layer do not import each other either.
            if other and other != part and (LAYERS[other] > LAYERS[part] or LAYERS[other] == LAYERS[part] > 0):
                upward.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not upward, "imports up (or across) the layers:\n" + "\n".join(upward)


def test_every_core_module_imports_with_the_rest_of_wildxray_unimportable() -> None:
    names = [".".join(("wildxray.core", *p.relative_to(CORE).with_suffix("").parts)).removesuffix(".__init__")
             for p in _core_modules()]
    code = (
        "import importlib, importlib.abc, sys\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.startswith('wildxray.') and not name.startswith('wildxray.core'):\n"
        "            raise ImportError(f'{name} is outside the bottom layer')\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {names!r}:\n"
        "    importlib.import_module(m)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
