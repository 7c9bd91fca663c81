"""DespeckleNet family data: specimens and their targets, speckled acquisition sets, network pairs, scores.

Specimens (any phantom of qpi.optics.phantoms; the amplitude optionally tied to the phase, see
`specimen`) are shared by every condition; their targets come from the virtual microscope without
scattering, as in the paper:
the in-focus partially coherent ("incoherent" lamp) intensity and the TIE phase of the planes
±dz, plus the exact phase. An acquisition set then images a block of specimens through one fresh
diffuser under one illumination (intensity and incidence angle drawn anew), in focus or with the
camera defocused, so the test split, drawn from its own seed, never shows a speckle pattern seen in
training.

Network pairs: input the speckle intensity, contrast-stretched by a power (the authors' 0.3), − 1 (N, 1, H, W); target channel 0 is 2·I − 1 (the
tanh range), channel 1 the phase (rad, mean removed) — the TIE phase (`label="tie"`, as the
paper) or the exact one.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from tqdm import tqdm

from qpi import tie
from qpi.core.logs import progress_stream
from qpi.core.plan import model_train
from qpi.io import Stack
from qpi.optics import speckle
from qpi.optics.binning import bin_pixels
from qpi.optics.imaging import Microscope, camera_intensity, shot_noise
from qpi.optics.phantoms import make_phantom
from qpi.scoring.scores import condition_means, image_rows

log = logging.getLogger("qpi.families.despeckle")
REPORTED = ("ssim", "nrmse", "lpips")  # the paper's three metrics


POOLED = "pooled"  # the condition whose acquisition sets cycle through every scatter level


def conditions(cfg: dict) -> dict[str, dict]:
    """The family's conditions from its config block, each {"diffuser": ..., "sets": {split: count}}:
    sweep levels l1, l2, ... (the diffuser at each correlation length); with `levels_training: pooled`
    also `pooled`, whose sets cycle through the levels' correlation lengths (at least one set per level
    in every split); sets<k> (diversity: k training sets at the example level); tape, petri, tissue
    (diffuser types at the example level)."""
    example = {**cfg["diffuser"], "correlation_um": cfg["correlation_um"][cfg["example_level"] - 1]}
    out = {f"l{i + 1}": {"diffuser": {**cfg["diffuser"], "correlation_um": c}}
           for i, c in enumerate(cfg["correlation_um"])}
    if cfg.get("levels_training") == POOLED:
        n = len(cfg["correlation_um"])
        out[POOLED] = {"diffuser": {**cfg["diffuser"], "correlation_um": list(cfg["correlation_um"])},
                       "sets": {split: -(-k // n) * n for split, k in cfg["sets"].items()}}
    out |= {f"sets{k}": {"diffuser": example, "train_sets": k} for k in cfg["diversity"]["sets"]}
    out |= {kind: {"diffuser": {**example, "kind": kind}} for kind in cfg["cross"]["diffusers"]}
    for spec in out.values():
        spec["sets"] = spec.get("sets") or {**cfg["sets"], "train": spec.pop("train_sets", cfg["sets"]["train"])}
    return out


def level_training(cfg: dict, conditions: dict[str, dict], level: str) -> str:
    """The condition whose networks the sweep scores at scatter level `level`: the level's own
    (`levels_training: each`, as the paper) or the one network per model trained on every level."""
    return POOLED if cfg.get("levels_training") == POOLED else shared(conditions, level, ["train", "val"])


def shared(conditions: dict[str, dict], condition: str, splits: list[str]) -> str:
    """The first condition acquired like `condition` on `splits` (same diffuser, same sets): equal
    data are simulated once, and networks trained on equal data (splits train and val) once."""
    def key(c):
        return [(conditions[c]["diffuser"], conditions[c]["sets"][s]) for s in splits]

    return next(c for c in conditions if key(c) == key(condition))


def trained(cfg: dict, conditions: dict[str, dict]) -> dict[str, list[str]]:
    """The networks to train, {training condition: models in config order}: every model on each
    level, the diversity models on each sets<k>, the cross models on each diffuser type — keyed by
    the condition whose data they train on (`shared` on train and val), so equal networks train once."""
    levels = [POOLED] if cfg.get("levels_training") == POOLED else [f"l{i + 1}" for i in range(len(cfg["correlation_um"]))]
    wanted = [(level, m) for level in levels for m in cfg["models"]]
    wanted += [(f"sets{k}", m) for k in cfg["diversity"]["sets"] for m in cfg["diversity"]["models"]]
    wanted += [(kind, m) for kind in cfg["cross"]["diffusers"] for m in cfg["cross"]["models"]]
    out: dict[str, set[str]] = {}
    for condition, model in wanted:
        out.setdefault(shared(conditions, condition, ["train", "val"]), set()).add(model)
    return {c: [m for m in cfg["models"] if m in models] for c, models in out.items()}


GAN_ONLY = ("discriminator", "alpha", "betas_d")  # training settings only an adversarial run reads


def train_settings(cfg: dict, model: str) -> dict:
    """A network's training settings (`plan.model_train`); one trained without the adversarial term
    (U-Net, IDiffNet) leaves out the GAN's, so a new discriminator or α re-runs only the GANs."""
    train = model_train(cfg, model)
    if cfg["models"][model].get("adversarial", False):
        return train
    return {k: v for k, v in train.items() if k not in GAN_ONLY}


def calibrated(cfg: dict, models: list[str]) -> list[bool]:
    """Which of `models` need an affine calibration before scoring: those trained on the NPCC loss,
    which fixes their outputs only up to scale and offset (`affine_fit`)."""
    return [cfg["models"][m].get("loss") == "npcc" for m in models]


def test_sets(conditions: dict[str, dict]) -> list[str]:
    """The distinct test splits, each named by the first condition acquired that way: every trained
    network is scored on all of them (the family's cross-condition matrix). The pooled condition
    trains only: its levels are tested one by one."""
    return list(dict.fromkeys(shared(conditions, c, ["test"]) for c in conditions if c != POOLED))


def prediction_key(model: str, test: str) -> str:
    """Name of one model's predictions on one test split in an evaluation's .npz."""
    return f"{model}@{test}"


def select(per_image: pd.DataFrame, pairs: list[tuple[str, str]], models: list[str] | None = None) -> pd.DataFrame:
    """The per-image rows of the (train condition, test condition) `pairs` (names as `trained` and
    `test_sets` give them), optionally of `models` only."""
    keep = pd.Series(list(zip(per_image["train_condition"], per_image["test_condition"])),
                     index=per_image.index).isin(set(pairs))
    if models is not None:
        keep &= per_image["model"].isin(models)
    return per_image[keep].reset_index(drop=True)


def specimen(phantom: dict, shape: tuple[int, int], scope: Microscope, rng: np.random.Generator):
    """(phase, amplitude) of one specimen: the phantom of `phantom["kind"]` with its `params`. With
    `absorption_ratio` κ (β/Δn of one material of complex index contrast Δn + iβ) the amplitude is
    made from the phase, exp(−κ·φ), as for a stained or pigmented specimen whose absorption and
    optical path come from the same thickness; otherwise the phantom's own amplitude is kept."""
    phase, amplitude = make_phantom(phantom["kind"], shape, scope.sim_pixel_um, scope.wavelength_um, rng,
                                    **phantom.get("params", {}))
    ratio = phantom.get("absorption_ratio")
    if ratio is not None:  # every phantom's phase is ≥ 0 above a 0 background, so the background stays clear
        amplitude = np.exp(-ratio * phase).astype(np.float32)
    return phase, amplitude


def simulate_specimens(
    count: int, field_px: int, scope: Microscope, phantom: dict, dz_um: float, tie_method: str, eps: float,
    seed: list[int],
) -> dict[str, np.ndarray]:
    """`count` specimens (specimen i from the seed [*seed, i]): their transmittance on the simulation
    grid (`t_phase`, `t_amplitude`, (N, S, S)) and targets on the camera grid (N, 1, H, W):
    `intensity` in focus, `tie` phase from the planes ±`dz_um`, `exact` phase (means removed)."""
    shape = (field_px * scope.oversample,) * 2
    z = np.array([-dz_um, 0.0, dz_um])
    out = {k: [] for k in ("t_phase", "t_amplitude", "intensity", "tie", "exact")}
    for i in tqdm(range(count), file=progress_stream(log), mininterval=10, ascii=True):
        rng = np.random.default_rng([*seed, i])
        phase, amplitude = specimen(phantom, shape, scope, rng)
        planes = camera_intensity(amplitude * np.exp(1j * phase), z, scope)
        stack = Stack(data=planes, z_um=z, wavelength_um=scope.wavelength_um, pixel_um=scope.pixel_um,
                      medium_index=scope.medium_index)
        exact = bin_pixels(phase, scope.oversample)
        for key, value in zip(out, (phase, amplitude, planes[1][None], tie.solve(stack, method=tie_method, eps=eps)
                                    [None], (exact - exact.mean())[None])):
            out[key].append(value)
    return {k: np.asarray(v, np.float32) for k, v in out.items()}


def acquire(
    specimens: dict[str, np.ndarray], sets: int, scope: Microscope, diffuser: dict, illumination: dict,
    photons: float, seed: list[int], defocus_um: float = 0.0,
) -> np.ndarray:
    """Speckle images (N, 1, H, W) of the specimens split into `sets` consecutive blocks, each seen
    through its own diffuser (`diffuser`: kind, correlation_um, rms_rad, distance_um, thickness_um,
    layers; a list of correlation lengths: set s takes the (s mod n)-th) under its own laser (`illumination`: relative intensity and angle_deg ranges), with shot
    noise (`photons` photo-electrons per pixel at mean intensity 1), the camera `defocus_um` beyond
    the specimen."""
    n, shape = len(specimens["t_phase"]), specimens["t_phase"].shape[1:]
    if not 0 < sets <= n:
        raise ValueError(f"cannot split {n} specimens into {sets} acquisition sets; use 1..{n} sets")
    block = np.array_split(np.arange(n), sets)
    geometry = {k: diffuser[k] for k in ("thickness_um", "layers") if k in diffuser}
    lengths = np.atleast_1d(diffuser["correlation_um"])
    out = np.empty((n, 1, shape[0] // scope.oversample, shape[1] // scope.oversample), np.float32)
    for s, members in enumerate(block):
        rng = np.random.default_rng([*seed, s])
        screens = speckle.make_diffuser(diffuser["kind"], shape, scope.sim_pixel_um, float(lengths[s % len(lengths)]),
                                        diffuser["rms_rad"], rng, **geometry)
        brightness = rng.uniform(*illumination["intensity"])
        laser = speckle.plane_wave(shape, scope.sim_pixel_um, scope.wavelength_um,
                                   rng.uniform(*illumination["angle_deg"]), rng.uniform(0, 2 * np.pi), brightness)
        images = []
        for i in members:
            t = specimens["t_amplitude"][i] * np.exp(1j * specimens["t_phase"][i])
            images.append(bin_pixels(speckle.speckle_image(t, screens, laser, diffuser["distance_um"],
                                                           scope.wavelength_um, scope.sim_pixel_um, scope.na,
                                                           defocus_um), scope.oversample))
        # One exposure per set, as for a diffuser put in place: it makes up for the light scattered out
        # of the aperture, so a set's mean is its laser's relative brightness.
        images = np.asarray(images) * (brightness / np.mean(images))
        out[members, 0] = shot_noise(images, photons, rng)
    return out


def network_pairs(speckled: np.ndarray, specimens: dict[str, np.ndarray], label: str,
                  power: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Inputs speckle^power − 1 (the authors' contrast stretch, power 0.3, compresses the bright
    speckles' exponential tail; their final map to [−1, 1] is affine, which the first convolution
    absorbs); targets (2·I − 1, phase) with the phase from `label` ("tie" | "exact" | "measured")."""
    if label not in ("tie", "exact", "measured") or label not in specimens:
        raise ValueError(f"phase label {label!r} is not among the specimens' {sorted(specimens)}; use tie, exact or "
                         "measured where the data have it")
    y = np.concatenate([2 * specimens["intensity"] - 1, specimens[label]], axis=1)
    return network_input(speckled, power), y.astype(np.float32)


def network_input(speckled: np.ndarray, power: float = 1.0) -> np.ndarray:
    """A network's input from speckle intensities relative to the empty field: speckle^power − 1."""
    if power <= 0:
        raise ValueError(f"the input power must be positive, got {power}")
    return (np.power(np.clip(speckled, 0, None), power) - 1).astype(np.float32)


def affine_fit(prediction: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-channel least-squares (scale, offset), shape (C, 2), taking `prediction` onto `target`
    (N, C, H, W). A network trained on the negative Pearson correlation (IDiffNet) is defined only up
    to such a map, so it is fitted on the validation split before its outputs are scored."""
    return np.array([np.polyfit(p.ravel(), t.ravel(), 1) for p, t in zip(prediction.swapaxes(0, 1),
                                                                      target.swapaxes(0, 1))])


def affine_apply(prediction: np.ndarray, fit: np.ndarray) -> np.ndarray:
    """`prediction` (N, C, H, W) through the per-channel map of `affine_fit`."""
    return (prediction * fit[None, :, 0, None, None] + fit[None, :, 1, None, None]).astype(np.float32)


def outputs(prediction: np.ndarray) -> dict[str, np.ndarray]:
    """Network outputs (N, 2, H, W) → intensity (relative to the empty field) and phase (rad), (N, H, W)."""
    return {"intensity": (prediction[:, 0] + 1) / 2, "phase": prediction[:, 1]}


def score(prediction: np.ndarray, specimens: dict[str, np.ndarray], lpips=None, **labels) -> list[dict]:
    """Score rows (`scores.COLUMNS`) per image: intensity against the in-focus intensity; phase (pistons
    removed) against the TIE phase (the label) and the exact or measured phase where the specimens have
    it; SSIM, NRMSE and LPIPS (NaN if absent)."""
    out, rows = outputs(prediction), []
    references = [("intensity", "intensity")] + [("phase", r) for r in ("tie", "exact", "measured") if r in specimens]
    for quantity, reference in references:
        for i, (pred, truth) in enumerate(zip(out[quantity], specimens[reference][:, 0])):
            rows += image_rows(pred, truth, quantity=quantity, reference=reference, lpips=lpips, names=REPORTED,
                               **labels, image=i)
    return rows


def phase_truth(specimens: dict[str, np.ndarray]) -> str:
    """The best phase reference the specimens have: exact (simulated), measured, else the TIE label."""
    return next(r for r in ("exact", "measured", "tie") if r in specimens)


def example_ssim(per_image: pd.DataFrame, test: str, index: int, reference: str = "exact") -> dict[tuple[str, str], float]:
    """SSIM of every model's intensity (vs the in-focus intensity) and phase (vs `reference`) on test
    image `index` of the test split `test`, {(model, quantity): value}: the example panel's titles."""
    rows = per_image[(per_image["test_condition"] == test) & (per_image["image"] == index)
                     & (per_image["metric"] == "ssim") & (per_image["reference"].isin(["intensity", reference]))]
    return {(m, q): float(v) for m, q, v in zip(rows["model"], rows["quantity"], rows["value"])}


def correlation_table(per_image: pd.DataFrame) -> pd.DataFrame:
    """One row per model, training condition and level: mean SSIM/NRMSE/LPIPS of intensity, of phase
    against the TIE label (`*_phase`) and against the exact (`*_phase_exact`) or measured phase
    (`*_phase_measured`, where there is one)."""
    df = per_image.assign(column=column_names(per_image))
    keys = ["model", "train_condition", "level", "correlation_um"]
    wide = df.groupby([*keys, "column"], sort=False, dropna=False)["value"].mean().unstack("column")
    phases = ["phase", "phase_exact"] + (["phase_measured"] if (per_image["reference"] == "measured").any() else [])
    columns = [f"{m}_{q}" for m in REPORTED for q in ("intensity", *phases)]
    return wide.reindex(columns=columns).reset_index().sort_values(["level", "model", "train_condition"],
                                                                   ignore_index=True)


def column_names(per_image: pd.DataFrame) -> list[str]:
    """`<metric>_<quantity>` of each tidy row: intensity, phase (TIE label) or phase_exact."""
    names = {("intensity", "intensity"): "intensity", ("phase", "tie"): "phase", ("phase", "exact"): "phase_exact",
             ("phase", "measured"): "phase_measured"}
    keys = zip(per_image["metric"], per_image["quantity"], per_image["reference"])
    return [f"{m}_{names[(q, r)]}" for m, q, r in keys]


def cross_table(per_image: pd.DataFrame, family: str = "despeckle") -> pd.DataFrame:
    """The cross-condition table: family, model, train_condition, test_condition, seed, metric
    (e.g. ssim_intensity, ssim_phase_exact), value (mean over the test images)."""
    return condition_means(per_image.assign(family=family, metric=column_names(per_image)))
