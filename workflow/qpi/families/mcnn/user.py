"""MCNN on a researcher's stacks, as the paper's experiments (`shared/seeds/002_…`, Figs 2–3).

The paper trains on natural images simulated through its microscope and applies the network to
measured stacks at the planes it was trained on, against a TIE label. Here the microscope and the
planes are the stacks' own (`microscope`, `input_planes`): the simulated training set is imaged
through the sheet's objective and camera at the planes every stack holds. Two networks are scored:

- `simulated`: trained on the simulated natural images only (the paper's protocol);
- `tuned`: the same network fine-tuned on the stacks' training tiles (what a lab with stacks adds).

Both, and the multi-plane TIE of the same planes, are scored on the stacks' held-out tiles against
each stack's label (its TIE on the whole field, or its measured phase). The TIE baseline is solved on
the whole field too and cut like the label: a TIE solved on a tile has no valid boundary.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from qpi.core import paths, plan
from qpi.core.errors import StackError
from qpi.io.stack import FOCUS_TOL_UM, Stack
from qpi.tie.solvers import in_focus
from qpi.training import tiles

SIMULATED = "simulated"  # trained on simulated natural images through the stacks' microscope
TUNED = "tuned"  # that network fine-tuned on the stacks' training tiles
CONDITIONS = (SIMULATED, TUNED)
SETS = {part: f"stacks-{part}" for part in ("train", "val", "test")}  # the stacks' tiles as MCNN datasets
TEST_SET = SETS["test"]
# How far two stacks' optics may differ and still share one simulated training set (relative).
TOLERANCE = {"wavelength_um": 0.01, "pixel_um": 0.02, "na": 0.02, "medium_index": 0.005}


def microscope(stacks: dict[str, Stack], coherence: float) -> dict:
    """The `Microscope` every stack was recorded with (wavelength, NA, pixel size, medium, and coherence
    when every stack gives it, else `coherence`: the paper's coherent Fourier optics, 0); one sentence
    naming two stacks that differ."""
    (first, reference), *_ = stacks.items()
    given = [s.coherence for s in stacks.values()]
    tolerances = TOLERANCE if None in given else {**TOLERANCE, "coherence": 0.05}
    for name, stack in stacks.items():
        if not stack.na:
            raise StackError(f"{name}: MCNN simulates its training images through your objective, but the stack "
                             "gives no NA; add na to its row of the sample sheet (or leave mcnn out of `families`).")
        for key, tolerance in tolerances.items():
            a, b = getattr(reference, key), getattr(stack, key)
            if abs(b - a) > tolerance * max(abs(a), 1e-9) and not (key == "coherence" and abs(b - a) < 0.02):
                raise StackError(f"{first} and {name}: {key} {a:g} and {b:g}; MCNN's simulated training set is "
                                 "imaged through one microscope, so list stacks of one objective and camera (or fix "
                                 f"the sample sheet's {key}, or leave mcnn out of `families`).")
    magnification = reference.magnification or 1.0  # only the pixel size in the sample plane matters
    return {"wavelength_um": float(reference.wavelength_um), "na": float(reference.na),
            "magnification": float(magnification), "camera_pixel_um": float(reference.pixel_um * magnification),
            "medium_index": float(reference.medium_index),
            "coherence": float(coherence if None in given else reference.coherence)}


def input_planes(z_by_stack: dict[str, np.ndarray], wanted: list[float] | None) -> list[float]:
    """The network's input planes (µm, sorted): `wanted`, which every stack must hold, else every
    defocused plane (|z| > 0) that all stacks share; one sentence when there is none."""
    def has(z_um, z):
        return bool(np.any(np.abs(np.asarray(z_um, float) - z) < 1e-3))

    if wanted:
        for name, z_um in z_by_stack.items():
            missing = [z for z in wanted if not has(z_um, z)]
            if missing:
                raise StackError(f"{name}: mcnn.user.planes_um asks for planes at {missing} µm, but the stack has z = "
                                 f"{np.asarray(z_um).tolist()} µm; choose planes every stack holds.")
        return sorted(float(z) for z in wanted)
    first, *rest = z_by_stack.values()
    shared = [float(z) for z in first if abs(z) > FOCUS_TOL_UM and all(has(other, z) for other in rest)]
    if not shared:
        raise StackError(f"MCNN needs defocused planes that every stack holds; the stacks have z = "
                         f"{sorted({tuple(np.round(z, 3).tolist()) for z in z_by_stack.values()})} µm. Record the same "
                         "planes for every field, or set mcnn.user.planes_um.")
    return sorted(shared)


def substack(stack: Stack, z_um: list[float]) -> Stack:
    """The stack's planes at `z_um` alone."""
    return dataclasses.replace(stack, data=np.stack([stack.plane(z) for z in z_um]), z_um=np.asarray(z_um, float))


def field_tiles(
    stack: Stack,
    label: np.ndarray,
    planes_um: list[float],
    tie_phase: np.ndarray | None,
    parts: np.ndarray,
    part: str,
    tile_px: int,
) -> dict[str, np.ndarray]:
    """One stack's tiles in split `part` as an MCNN dataset's rows: `planes` (N, Z, T, T) at `planes_um`
    relative to the field's mean (the empty field's level, as the simulated planes), `phase` (the
    label), `amplitude` (√ of the relative in-focus intensity), `tie` (the same planes' TIE, when
    given) and `origin`; only tiles wholly inside the label (and the TIE)."""
    phases = {"phase": label} if tie_phase is None else {"phase": label, "tie": tie_phase}
    inside = np.logical_and.reduce([np.isfinite(v) for v in phases.values()])
    planes = tiles.relative(np.stack([stack.plane(z) for z in planes_um]).astype(np.float32), inside)
    focus = tiles.relative(in_focus(stack, list(range(len(stack.z_um)))), inside)
    images = {"planes": planes, "amplitude": np.sqrt(np.clip(focus, 0, None))[None]}
    return tiles.cut(images, phases, parts, part, tile_px)


def train_inputs(condition: str, model: str, seed: str) -> dict[str, str]:
    """A user-data run's training files: the simulated natural images (through the stacks' microscope),
    or for `tuned` the stacks' tiles and the simulated run it starts from; and the microscope file."""
    if condition == TUNED:
        data = {"train": paths.fill(paths.MCNN["data"], dataset=SETS["train"]),
                "val": paths.fill(paths.MCNN["data"], dataset=SETS["val"]),
                "init": paths.fill(paths.MCNN_RUN["best"], condition=SIMULATED, model=model, seed=seed)}
    else:
        data = {part: paths.fill(paths.MCNN["data"], dataset=part) for part in ("train", "val")}
    return {**data, "microscope": paths.MCNN["microscope"]}


def train_settings(block: dict, model: str, condition: str) -> dict:
    """The network's `train` settings, with `user.finetune` over them for the fine-tuning run."""
    settings = plan.model_train(block, model)
    return plan.merged(settings, block["user"]["finetune"]) if condition == TUNED else settings


def runs(block: dict) -> list[tuple[str, str]]:
    """(condition, run) of every user-data evaluation: each network simulated and tuned, then the TIE."""
    nets = [paths.run_name(m, s) for m in block["user"]["models"] for s in block["user"]["seeds"]]
    return [(c, net) for c in CONDITIONS for net in nets] + [(SIMULATED, "tie")]
