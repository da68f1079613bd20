"""The material table (``materials.yaml``) and mass attenuation from xraydb.

Every material is reduced to elemental mass fractions; its mass attenuation coefficient is
``mu/rho(E) = sum_i w_i * mu/rho_i(E)`` (cm^2/g, total attenuation incl. coherent scatter, the
narrow-beam quantity that Beer-Lambert needs) from xraydb's Elam tables.
Energies are in keV everywhere in ``wildxray.xray``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

MATERIALS_FILE = Path(__file__).with_name("materials.yaml")


class MaterialError(ValueError):
    """A row of the material table is malformed (file and row are named)."""


@dataclass(frozen=True)
class Material:
    """One row of the table, resolved to elements.

    fractions: element symbol -> mass fraction (sums to 1).
    density:   bulk density in g/cm^3.
    """

    name: str
    fractions: dict[str, float]
    density: float
    source: str

    def mass_attenuation(self, energy_kev: np.ndarray) -> np.ndarray:
        """mu/rho in cm^2/g at ``energy_kev`` (float64 array of any shape)."""
        return mass_attenuation(self.fractions, energy_kev)

    def linear_attenuation(self, energy_kev: np.ndarray) -> np.ndarray:
        """mu in 1/cm at ``energy_kev``."""
        return self.mass_attenuation(energy_kev) * self.density


#: spekpy's bin centres at ``dk = 1`` keV (1.5, 2.5, ...): every profile's energies are a prefix of
#: this grid, so each element's mu/rho is read from xraydb once per process, not once per profile.
_GRID_KEV = np.arange(400, dtype=np.float64) + 0.5


@functools.lru_cache(maxsize=None)
def _element_on_grid(element: str) -> np.ndarray:
    import xraydb  # start-up: xraydb (~5 s to import) loads only when a table is not cached yet

    return np.asarray(xraydb.mu_elam(element, _GRID_KEV * 1000.0), dtype=np.float64)


def _element_mu(element: str, energy_kev: np.ndarray) -> np.ndarray:
    """mu/rho of one element at ``energy_kev``; xraydb interpolates point by point, so reading the
    cached grid gives the same floats as asking xraydb (checked in tests/unit/xray/test_randomise.py)."""
    idx = np.rint(energy_kev - 0.5).astype(np.int64)
    if energy_kev.size and idx.min() >= 0 and idx.max() < _GRID_KEV.size and np.array_equal(_GRID_KEV[idx], energy_kev):
        return _element_on_grid(element)[idx]
    import xraydb  # start-up: as in _element_on_grid

    return np.asarray(xraydb.mu_elam(element, energy_kev * 1000.0), dtype=np.float64)


def mass_attenuation(fractions: dict[str, float], energy_kev: np.ndarray) -> np.ndarray:
    """mu/rho (cm^2/g) of a mix given by elemental mass fractions, from xraydb."""
    e_kev = np.asarray(energy_kev, dtype=np.float64)
    out = np.zeros_like(e_kev)
    for element, w in fractions.items():
        out += w * _element_mu(element, e_kev)
    return out


def _formula_fractions(formula: str) -> dict[str, float]:
    import xraydb  # start-up: as in _element_on_grid

    counts = xraydb.chemparse(formula)
    masses = {el: n * xraydb.atomic_mass(el) for el, n in counts.items()}
    total = sum(masses.values())
    return {el: m / total for el, m in masses.items()}


def _resolve(name: str, rows: dict[str, dict], where: str, stack: tuple[str, ...] = ()) -> dict[str, float]:
    if name in stack:
        raise MaterialError(f"{where}: material '{name}': circular mixture via {' -> '.join(stack)}")
    if name not in rows:
        raise MaterialError(f"{where}: material '{stack[-1] if stack else name}': unknown component '{name}'")
    row = rows[name]
    kinds = [k for k in ("formula", "elements", "mixture") if k in row]
    if len(kinds) != 1:
        raise MaterialError(f"{where}: material '{name}': needs exactly one of formula/elements/mixture, got {kinds}")
    if "formula" in row:
        try:
            return _formula_fractions(str(row["formula"]))
        except Exception as exc:  # xraydb raises assorted errors for bad formulas
            raise MaterialError(f"{where}: material '{name}': bad formula {row['formula']!r}: {exc}") from exc
    parts: dict[str, float] = row["elements"] if "elements" in row else row["mixture"]
    if not parts or any((not isinstance(v, (int, float))) or v <= 0 for v in parts.values()):
        raise MaterialError(f"{where}: material '{name}': fractions must be positive numbers, got {parts}")
    total = float(sum(parts.values()))
    out: dict[str, float] = {}
    for key, w in parts.items():
        sub = {key: 1.0} if "elements" in row else _resolve(key, rows, where, stack + (name,))
        for el, f in sub.items():
            out[el] = out.get(el, 0.0) + f * w / total
    return out


def load_materials(path: Path | str = MATERIALS_FILE) -> dict[str, Material]:
    """Read and validate a material table; raises MaterialError naming the file and the row."""
    path = Path(path)
    rows_list = yaml.safe_load(path.read_text())
    if not isinstance(rows_list, list):
        raise MaterialError(f"{path}: expected a list of material rows")
    rows: dict[str, dict] = {}
    for i, row in enumerate(rows_list):
        if not isinstance(row, dict) or "name" not in row:
            raise MaterialError(f"{path}: row {i}: missing 'name'")
        name = row["name"]
        if name in rows:
            raise MaterialError(f"{path}: row {i}: duplicate material '{name}'")
        for key in ("density", "source"):
            if key not in row:
                raise MaterialError(f"{path}: material '{name}': missing '{key}'")
        if not isinstance(row["density"], (int, float)) or row["density"] <= 0:
            raise MaterialError(f"{path}: material '{name}': density must be > 0, got {row['density']!r}")
        unknown = set(row) - {"name", "density", "source", "formula", "elements", "mixture"}
        if unknown:
            raise MaterialError(f"{path}: material '{name}': unknown keys {sorted(unknown)}")
        rows[name] = row
    return {
        name: Material(name, _resolve(name, rows, str(path)), float(row["density"]), str(row["source"]))
        for name, row in rows.items()
    }


@functools.lru_cache(maxsize=1)
def mixture_components(path: Path | str = MATERIALS_FILE) -> dict[str, dict[str, float]]:
    """The ``mixture`` rows of a table as written (component -> mass fraction, normalised to 1):
    what the randomiser varies (e.g. ivory's apatite share)."""
    out = {}
    for row in yaml.safe_load(Path(path).read_text()):
        if isinstance(row, dict) and isinstance(row.get("mixture"), dict):
            total = float(sum(row["mixture"].values()))
            out[row["name"]] = {k: float(v) / total for k, v in row["mixture"].items()}
    return out


@functools.lru_cache(maxsize=1)
def default_materials() -> dict[str, Material]:
    """The shipped table, loaded once per process."""
    return load_materials(MATERIALS_FILE)


def get_material(name: str) -> Material:
    """A material of the shipped table by name (KeyError lists what exists)."""
    table = default_materials()
    if name not in table:
        raise KeyError(f"unknown material '{name}'; known: {', '.join(sorted(table))}")
    return table[name]


def effective_z(fractions: dict[str, float], exponent: float = 2.94) -> float:
    """Power-law effective atomic number (Spiers 1946), used only to label reference materials."""
    import xraydb  # start-up: as in _element_on_grid

    electrons = {el: w * xraydb.atomic_number(el) / xraydb.atomic_mass(el) for el, w in fractions.items()}
    total = sum(electrons.values())
    return float(sum(e / total * xraydb.atomic_number(el) ** exponent for el, e in electrons.items()) ** (1 / exponent))
