"""DL-SRQPI sweeps (the paper's Figs. 4–6): conditions, the defocus-adaptive training set,
cross-condition tables and the microlens height check.

A condition is the plane a network sees (`defocus_um`) and, optionally, the illumination coherence
S it was imaged at (else the microscope's). A sweep trains one network per condition and tests each
on every condition of the sweep; the defocus sweep adds one network trained on all its conditions.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from scipy import ndimage

from qpi.core import paths
from qpi.core.plan import merged, model_train
from qpi.io import FOCUS_TOL_UM, Stack, StackError, format_z, read_image
from qpi.optics.binning import degrade
from qpi.optics.phantoms import height_from_phase
from qpi.scoring import metrics
from qpi.scoring.scores import PIXEL_METRICS, condition_means, image_rows, phase_reference, summarise, wide
from qpi.tie.brightness import lit_mean
from qpi.training.evaluate import timed

# sweep → (condition key it varies, axis label)
AXES = {"defocus": ("defocus_um", "defocus z (µm)"), "coherence": ("coherence", "coherence S")}


def coherence(condition: dict, microscope_coherence: float) -> float:
    """S of a condition: its own, else the microscope's."""
    return float(condition.get("coherence", microscope_coherence))


def reimaged(condition: dict, microscope_coherence: float) -> bool:
    """Whether a condition needs its specimens imaged again (its S is not the shared stacks' S)."""
    return not np.isclose(coherence(condition, microscope_coherence), microscope_coherence)


def planes_um(defocus_um: float, pair_um) -> list[float]:
    """The planes a re-imaged condition needs: focus (a stack must hold it), its input plane and the
    two TIE-baseline planes, so every later rule reads it like a shared stack."""
    return sorted({0.0, float(defocus_um), *map(float, pair_um)})


def input_plane(z_um, defocus_um: float | None = None, input_um: float | None = None) -> float:
    """The defocused plane a network sees: the stack's own `input_um` (sample sheet), else the
    condition's `defocus_um`, else the recorded plane nearest focus, on the positive side first."""
    for value in (input_um, defocus_um):
        if value is not None:
            return float(value)
    z = np.asarray(z_um, dtype=float)
    defocused = z[np.abs(z) >= FOCUS_TOL_UM]
    if defocused.size == 0:
        raise StackError(f"the stack has no defocused plane (z = {format_z(z)} µm); DL-SRQPI's input "
                         "is one defocused plane: record one, or set input_um in the sample sheet.")
    return float(min(defocused, key=lambda v: (abs(v), v < 0)))


def acquire(stack: Stack, defocus_um: float | None, pair_um, binning: int, noise_sigma: float,
            rng: np.random.Generator, input_um: float | None = None) -> tuple[np.ndarray, Stack, float]:
    """A corrected stack's network input (the defocused plane relative to its mean inside a field stop,
    noisy and binned: a frame lit over more or less of its area gives the same level), the LR stack of
    the TIE baselines (the planes `pair_um`, or every plane when None), on the binned pixel grid,
    and the input plane's z (`input_plane`)."""
    plane = input_plane(stack.z_um, defocus_um, input_um)
    pair_um = [float(z) for z in (stack.z_um if pair_um is None else pair_um)]
    try:
        lr = degrade(stack.plane(plane), binning, noise_sigma, rng, level=lit_mean(stack.plane(plane)))
        pair = np.stack([degrade(stack.plane(z), binning, noise_sigma, rng) for z in pair_um])
    except KeyError as err:
        raise StackError(f"DL-SRQPI: {err.args[0]}; pick planes the stack has (input_um / tie_planes_um in the "
                         "sample sheet, or the condition's defocus_um).") from None
    return lr, dataclasses.replace(stack, data=pair, z_um=np.array(pair_um, float), pixel_um=stack.pixel_um * binning), plane


def sweep_values(conditions: dict[str, dict], sweep: str, microscope_coherence: float) -> dict[str, float]:
    """The swept quantity (z in µm or S) of every condition."""
    key = AXES[sweep][0]
    if key == "coherence":
        return {name: coherence(c, microscope_coherence) for name, c in conditions.items()}
    return {name: float(c[key]) for name, c in conditions.items()}


def adaptive_dataset(datasets: list[dict[str, np.ndarray]], seed: int) -> tuple[dict[str, np.ndarray], dict]:
    """The defocus-adaptive training set from per-condition datasets of the same fields and patches.

    Every patch location appears once, its input drawn from one member condition (each member gets
    an equal share, at random), so the set is as large as one condition's — as the paper's 13 × 100
    images. Members must share their labels (the same fields, split and patch grid)."""
    rng = np.random.default_rng(seed)
    out = {}
    for part in ("train", "val", "test"):
        labels = datasets[0][f"y_{part}"]
        for d in datasets[1:]:
            if d[f"y_{part}"].shape != labels.shape or not np.array_equal(d[f"y_{part}"], labels):
                raise ValueError(f"the adaptive set's members differ in their {part} labels: build them from "
                                 "the same fields, split and patch settings")
        owner = rng.permutation(len(labels)) % len(datasets)
        x = datasets[0][f"x_{part}"].copy()
        for k, d in enumerate(datasets[1:], start=1):
            x[owner == k] = d[f"x_{part}"][owner == k]
        out[f"x_{part}"], out[f"y_{part}"] = x, labels
        out[f"member_{part}"] = owner.astype(np.float32)
    return out, {"members": len(datasets), "patches": {p: len(out[f"y_{p}"]) for p in ("train", "val", "test")}}


def sweep_per_image(per_image: pd.DataFrame, values: dict[str, float]) -> pd.DataFrame:
    """Per-image scores of one sweep against one reference — the exact phase where the rows have it
    (simulated fields), else the TIE phase — with the swept value of the train and test condition
    (NaN for a network trained on several)."""
    reference = phase_reference(per_image)
    rows = per_image[per_image["reference"] == reference].copy()
    rows["train_value"] = rows["train_condition"].map(values)
    rows["test_value"] = rows["test_condition"].map(values)
    return rows.reset_index(drop=True)


def sweep_summary(per_image: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std over the test fields per (train condition, test condition, seed)."""
    table = summarise(per_image.drop(columns=["seconds_per_mpx", "lpips"], errors="ignore"),
                      ["reference", "train_condition", "test_condition", "seed"])
    # values joined afterwards: grouping by the adaptive network's NaN train value would drop it
    for side in ("train", "test"):
        values = dict(zip(per_image[f"{side}_condition"], per_image[f"{side}_value"]))
        table.insert(3 if side == "train" else 4, f"{side}_value", table[f"{side}_condition"].map(values))
    return table


def cross_tidy(per_image: pd.DataFrame, family: str, model: str) -> pd.DataFrame:
    """The family's tidy cross-condition rows (mean over test fields) of one sweep."""
    long = per_image.melt(id_vars=["train_condition", "test_condition", "seed"], var_name="metric",
                          value_vars=[m for m in PIXEL_METRICS if m in per_image], value_name="value")
    return condition_means(long.assign(family=family, model=model))


# --- scoring: one predicted phase against its references ----------------------------------------


def score(prediction: np.ndarray, references: dict[str, np.ndarray | None], lpips=None, seconds=None,
          **labels) -> list[dict]:
    """Score rows (`scores.COLUMNS`) of one predicted phase against every available reference
    ('exact', 'tie'; None: absent), with its `seconds_per_mpx` as a row too when `seconds` is given;
    `lpips` is a `metrics.Lpips` (NaN when its weights are absent) or None to skip LPIPS."""
    rows = []
    for name, ref in references.items():
        if ref is None:
            continue
        rows += image_rows(prediction, ref, quantity="phase", reference=name, lpips=lpips, **labels)
        if seconds is not None:
            rows.append({**labels, "quantity": "phase", "reference": name, "metric": "seconds_per_mpx",
                         "value": seconds / (prediction.size / 1e6)})
    return rows


def evaluate_fields(predict, inputs: dict, references: dict, log=None, windows: dict | None = None,
                    **labels) -> tuple[list[dict], dict]:
    """Apply `predict` to every input field, time it and score it against its references.

    `inputs` maps field names to inputs; `references` maps the same names to
    {'exact': array or None, 'tie': array}; `windows` maps a field to the HR windows it is scored
    in, {block: (rows, cols)}, when fields are split by blocks (the image is then `<field>@<block>`;
    else the field name, scored whole); `labels` are the rows' family, model, seed, train_condition
    and test_condition. Returns score rows and the predictions (whole fields).
    LPIPS is computed when its AlexNet weights are cached (else NaN, noted in the log).
    """
    lpips = metrics.Lpips()
    if log and not lpips.available:
        log.warning("%s", lpips.note)
    rows, predictions = [], {}
    for name, x in inputs.items():
        phase, seconds = timed(predict, x)
        predictions[name] = phase
        parts = {name: (slice(None), slice(None))} if (windows or {}).get(name) is None else {
            f"{name}@{block}": window for block, window in windows[name].items()}
        for image, window in parts.items():
            crop = phase[window]
            refs = {k: None if r is None else r[window] for k, r in references[name].items()}
            share = crop.size / phase.size  # the field's inference time, by area
            scored = score(crop, refs, lpips, seconds * share, **labels, image=image)
            rows += scored
            if log:
                log.info("%s: %s", image, ", ".join(f"SSIM {r['value']:.3f} vs {r['reference']}" for r in scored
                                                    if r["metric"] == "ssim"))
    return rows, predictions


def references(tie_paths, truth_paths, measured_paths=None) -> list[dict]:
    """What every field is scored against: {'exact': the simulation's phase or None, 'tie': the
    full-resolution TIE phase, 'measured': the phase the sample sheet gives or None} ('' paths: none)."""
    measured_paths = measured_paths or [""] * len(tie_paths)
    return [
        {"exact": read_image(truth)[0] if truth else None, "tie": read_image(tie)[0],
         "measured": read_image(measured)[0] if measured else None}
        for tie, truth, measured in zip(tie_paths, truth_paths, measured_paths)
    ]



# --- planning: what a configuration trains and tests (cfg: the `srqpi` config block) ------------------


def method_name(model: str, seed: int) -> str:
    """A benchmark method's name: a network's run name, the TIE baseline's own (`tie-<solver>`)."""
    return model if model.startswith("tie-") else paths.run_name(model, seed)


def methods(cfg: dict) -> list[str]:
    """Every method of the benchmark: trained networks `<model>_s<seed>`, then the TIE baselines `tie-<solver>`."""
    return [method_name(m, s) for m in cfg["models"] for s in cfg["seeds"]] + [f"tie-{m}" for m in cfg["baselines"]]


def benchmark_view(rows: pd.DataFrame) -> pd.DataFrame:
    """The benchmark's score rows, one column per metric, in its own words: `method` (the model) and
    `condition` (the test condition)."""
    return wide(rows).rename(columns={"model": "method", "test_condition": "condition"})


def sweep_train(cfg: dict) -> dict:
    """The sweep network's training: its `model_train` with the sweeps' overrides."""
    return merged(model_train(cfg, cfg["sweeps"]["model"]), cfg["sweeps"]["train"])


def sweep_model(cfg: dict) -> str:
    """The sweep networks' model file: trained like the benchmark's, they are its own, else the sweep's."""
    reused = sweep_train(cfg) == model_train(cfg, cfg["sweeps"]["model"])
    return (paths.SRQPI_RUN if reused else paths.SRQPI_SWEEP_RUN)["best"]


def conditions(cfg: dict) -> dict[str, dict]:
    """Every condition networks are trained or tested on: the configured ones (defocus, coherence)
    and each adaptive network's, whose data are its `members`' pooled."""
    return {**cfg["conditions"], **{name: {"members": members} for name, members in adaptive(cfg).items()}}


def adaptive(cfg: dict) -> dict[str, list[str]]:
    """{adaptive condition `<sweep>-adaptive`: its member conditions} of the sweeps that train one network on all."""
    sweeps = cfg["sweeps"]
    return {f"{s}-adaptive": sweeps[s]["conditions"] for s in AXES if sweeps[s]["adaptive"]}


def sweep_networks(cfg: dict, sweep: str) -> list[str]:
    """Training conditions of a sweep: each of its conditions, then its adaptive network's."""
    return cfg["sweeps"][sweep]["conditions"] + [a for a in adaptive(cfg) if a.startswith(f"{sweep}-")]


def sweep_tests(cfg: dict) -> list[str]:
    """Every test condition of the sweeps, once: each sweep network is scored on all of them."""
    return list(dict.fromkeys(c for s in AXES for c in cfg["sweeps"][s]["conditions"]))


def microscope_overrides(cfg: dict, condition: str) -> dict:
    """Microscope keys a condition sets: its own coherence, if it has one."""
    spec = cfg["conditions"][condition]
    return {"coherence": spec["coherence"]} if "coherence" in spec else {}


def condition_reimaged(cfg: dict, condition: str, microscope_coherence: float) -> bool:
    """Whether `condition` (a configured one; adaptive ones are not) images its specimens again."""
    spec = cfg["conditions"].get(condition)
    return spec is not None and reimaged(spec, microscope_coherence)


# --- microlens heights ------------------------------------------------------------------------------


def lens_peaks(height_um: np.ndarray, pitch_px: float) -> np.ndarray:
    """(y, x) pixels of the lens apexes whose whole lens lies inside the field: local maxima over a
    pitch-wide window (a flat top of several equal pixels counts once), half a pitch from the border."""
    size = max(int(round(pitch_px)), 3)
    tops, count = ndimage.label((height_um == ndimage.maximum_filter(height_um, size=size, mode="nearest"))
                                & (height_um > np.percentile(height_um, 50)))
    peaks = np.round(ndimage.center_of_mass(height_um, tops, range(1, count + 1))).astype(int).reshape(-1, 2)
    margin = pitch_px / 2
    inside = np.all((peaks >= margin) & (peaks < np.array(height_um.shape) - margin), axis=1)
    return peaks[inside]


def peak_to_valley(height_um: np.ndarray, peaks: np.ndarray, pitch_px: float) -> np.ndarray:
    """Height of each lens: max − min within a pitch-wide disc around its apex (free of piston)."""
    yy, xx = np.indices(height_um.shape)
    out = []
    for y, x in peaks:
        disc = (yy - y) ** 2 + (xx - x) ** 2 <= (pitch_px / 2) ** 2
        out.append(np.ptp(height_um[disc]))
    return np.array(out)


def microlens_heights(phases: dict[str, np.ndarray], truth_phase: np.ndarray, wavelength_um: float, delta_n: float,
                      pitch_px: float) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Height maps (µm, piston matched to the truth) of every method's phase and their errors.

    Rows per method: height RMSE over the field, the true and recovered lens height (mean
    peak-to-valley over the lenses found in the truth) and the peak-height error."""
    truth = height_from_phase(truth_phase, wavelength_um, delta_n)
    peaks = lens_peaks(truth, pitch_px)
    true_peak = peak_to_valley(truth, peaks, pitch_px)
    rows, heights = [], {"truth": truth}
    for method, phase in phases.items():
        height = height_from_phase(phase, wavelength_um, delta_n)
        height = height - np.mean(height - truth)  # a phase image carries no absolute piston
        peak = peak_to_valley(height, peaks, pitch_px)
        heights[method] = height
        rows.append({"method": method, "height_rmse_um": float(np.sqrt(np.mean((height - truth) ** 2))),
                     "peak_height_true_um": float(true_peak.mean()), "peak_height_um": float(peak.mean()),
                     "peak_error_um": float(np.mean(peak - true_peak)), "lenses": len(peaks)})
    return pd.DataFrame(rows), heights


def profile_row(peaks: np.ndarray, shape: tuple[int, int]) -> int:
    """The image row through the lens apexes nearest the field centre (for a line profile)."""
    return int(peaks[np.argmin(np.abs(peaks[:, 0] - shape[0] / 2)), 0])
