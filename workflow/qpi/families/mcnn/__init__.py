"""MCNN family data: specimens → through-focus intensities by Fourier optics, network pairs, TIE baseline.

As in the paper, training data are natural images (phase and amplitude from two scikit-image
pictures) imaged through focus with slight Poisson and white noise; cell phantoms and
microspheres test how far that transfers. Intensities are relative to the empty field (an empty
field images to 1), so the amplitude stays observable; the phase target has its mean removed
(no intensity carries the piston).

A dataset holds every plane the conditions need, `planes` (N, Z, H, W) at `z_um` (Z,), with
`phase` and `amplitude` (N, 1, H, W); a condition picks its planes as network channels.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from tqdm import tqdm

from qpi.core.logs import progress_stream
from qpi.core.paths import run_name
from qpi.io import Stack
from qpi.optics.binning import bin_pixels
from qpi.optics.imaging import Microscope, camera_intensity, shot_noise
from qpi.optics.phantoms import make_phantom
from qpi.scoring.scores import PIXEL_METRICS, condition_means, image_rows
from qpi.training.evaluate import predict_batches

log = logging.getLogger("qpi.families.mcnn")


def condition_planes(offsets: list[float], dz_um: float) -> np.ndarray:
    """z (µm) of a condition's planes, given in units of the plane spacing `dz_um`."""
    return np.round(np.asarray(offsets, dtype=float) * dz_um, 6)


def union_planes(conditions: dict[str, dict], dz_um: float) -> np.ndarray:
    """Every z (µm, sorted) that some condition's `z` list (units of `dz_um`) asks for."""
    return np.unique(np.concatenate([condition_planes(c["z"], dz_um) for c in conditions.values()]))


def conditions(cfg: dict) -> dict[str, dict]:
    """Every input condition of the `mcnn` config block: its planes' z (µm) and whether the network
    also predicts amplitude."""
    return {c: {"z_um": condition_planes(spec["z"], cfg["dz_um"]).tolist(), "amplitude": spec.get("amplitude", False)}
            for c, spec in cfg["conditions"].items()}


def convergence_runs(cfg: dict) -> list[str]:
    """The convergence study's networks `<model>_s<seed>` (also the transfer table's)."""
    return [run_name(m, s) for m in cfg["convergence"]["models"] for s in cfg["convergence"]["seeds"]]


def planes_runs(cfg: dict) -> list[tuple[str, str]]:
    """(condition, run) of the planes experiment: its network on every condition, then TIE where it can run."""
    net = run_name(cfg["planes"]["model"], cfg["planes"]["seed"])
    spec, planes = conditions(cfg), cfg["planes"]["conditions"]
    return [(c, net) for c in planes] + [(c, "tie") for c in planes if tie_possible(spec[c]["z_um"])]


def transfer_runs(cfg: dict) -> list[str]:
    """The transfer table's runs: the convergence networks, and TIE on their planes where it can run."""
    tie = ["tie"] if tie_possible(conditions(cfg)[cfg["convergence"]["condition"]]["z_um"]) else []
    return convergence_runs(cfg) + tie


def add_noise(intensity: np.ndarray, photons: float, white_sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Shot noise (`photons` per pixel at unit intensity) plus white Gaussian noise of σ `white_sigma`."""
    return shot_noise(intensity, photons, rng) + white_sigma * rng.standard_normal(intensity.shape)


def simulate_sample(
    kind: str,
    field_px: int,
    scope: Microscope,
    z_um: np.ndarray,
    rng: np.random.Generator,
    photons: float,
    white_sigma: float,
    params: dict | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One specimen of `kind` imaged at `z_um`: noisy planes (Z, H, W), phase (rad, mean 0), amplitude.

    The specimen lives on the microscope's oversampled grid; camera pixels integrate it (and the
    truth is integrated the same way). `scope.coherence` 0 is coherent Fourier optics, as the paper.
    """
    shape = (field_px * scope.oversample,) * 2
    phase, amplitude = make_phantom(kind, shape, scope.sim_pixel_um, scope.wavelength_um, rng, **(params or {}))
    planes = add_noise(camera_intensity(amplitude * np.exp(1j * phase), z_um, scope), photons, white_sigma, rng)
    phase = bin_pixels(phase, scope.oversample)
    return planes.astype(np.float32), (phase - phase.mean()).astype(np.float32), \
        bin_pixels(amplitude, scope.oversample).astype(np.float32)


def acquire(
    kind: str,
    count: int,
    field_px: int,
    scope: Microscope,
    z_um: np.ndarray,
    seed: list[int] | int,
    photons: float,
    white_sigma: float,
    params: dict | None = None,
) -> dict[str, np.ndarray]:
    """`count` specimens (sample i drawn from the seed [*seed, i]) → {planes, phase, amplitude, z_um}."""
    seed = list(np.atleast_1d(seed))
    out = {"planes": [], "phase": [], "amplitude": []}
    for i in tqdm(range(count), file=progress_stream(log), mininterval=10, ascii=True):
        rng = np.random.default_rng([*seed, i])
        for key, value in zip(out, simulate_sample(kind, field_px, scope, z_um, rng, photons, white_sigma, params)):
            out[key].append(value)
    arrays = {"planes": np.stack(out["planes"])}
    arrays.update({key: np.stack(out[key])[:, None] for key in ("phase", "amplitude")})
    arrays["z_um"] = np.asarray(z_um, np.float32)
    return arrays


def plane_index(z_available: np.ndarray, z_wanted: np.ndarray) -> list[int]:
    """Indices of `z_wanted` (µm) among the dataset's planes `z_available`."""
    index = [int(np.argmin(np.abs(z_available - z))) for z in z_wanted]
    missing = [float(z) for z, i in zip(z_wanted, index) if abs(z_available[i] - z) > 1e-3]
    if missing:
        raise ValueError(f"planes {missing} µm are not in the dataset (it has {np.asarray(z_available).tolist()} µm)")
    return index


def network_pairs(data: dict[str, np.ndarray], z_um: np.ndarray, amplitude: bool) -> tuple[np.ndarray, np.ndarray]:
    """Inputs: the intensity contrast I − 1 of the planes at `z_um` as channels (N, C, H, W);
    targets: phase (rad), and with `amplitude` the amplitude contrast A − 1 as a second channel.

    Both sides are contrasts to the empty field: a target offset (A ≈ 0.85) kept the phase head of
    bias-free-normalised networks stuck at zero for hundreds of steps. `predict` adds the 1 back."""
    x = network_input(data["planes"], data["z_um"], z_um)
    y = np.concatenate([data["phase"], data["amplitude"] - 1.0], axis=1) if amplitude else data["phase"]
    return x.astype(np.float32), y.astype(np.float32)


def network_input(planes: np.ndarray, z_available, z_um) -> np.ndarray:
    """The network's input channels from intensity planes (..., Z, H, W) relative to the empty field at
    `z_available` (µm): the planes at `z_um`, in that order, as contrasts I − 1."""
    return (planes[..., plane_index(np.asarray(z_available), z_um), :, :] - 1.0).astype(np.float32)


def laplacian_toy(count: int, size: int, sigma_px: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The paper's toy inverse problem: smooth random phases φ (N, 1, size, size), unit std, mean 0,
    periodic) and their 5-point Laplacians, scaled to unit std overall, as inputs."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    phase = ndimage.gaussian_filter(rng.standard_normal((count, size, size)), (0, sigma_px, sigma_px), mode="wrap")
    phase = phase - phase.mean(axis=(1, 2), keepdims=True)
    phase /= phase.std(axis=(1, 2), keepdims=True)
    laplacian = sum(np.roll(phase, shift, axis) for shift in (1, -1) for axis in (1, 2)) - 4 * phase
    return (laplacian / laplacian.std())[:, None].astype(np.float32), phase[:, None].astype(np.float32)


def input_std(x: np.ndarray) -> list[float]:
    """Std of the training inputs (N, C, H, W) per channel (≥ 1e-6): the networks' fixed input scale."""
    return [max(float(v), 1e-6) for v in np.std(x, axis=(0, 2, 3), dtype=np.float64)]


def predict(model, x: np.ndarray, device="cpu", batch: int = 16) -> np.ndarray:
    """Phase (rad) and, for two-output networks, amplitude (N, C', H, W) from inputs made by
    `network_pairs`: the networks' full-resolution outputs in eval mode, amplitude contrast + 1."""
    return network_output(predict_batches(model, x, device, batch))


def network_output(y: np.ndarray) -> np.ndarray:
    """Phase and amplitude (N, C', H, W) from a network's outputs: its amplitude contrast + 1."""
    y = np.array(y, np.float32)
    y[:, 1:] += 1.0
    return y


def tie_possible(z_um) -> bool:
    """Whether multi-plane TIE can use planes at `z_um` (µm): two or more, symmetric about focus."""
    z = np.sort(np.asarray(z_um, float))
    return len(z) > 1 and bool(np.allclose(z, -z[::-1]))


def tie_baseline(
    data: dict[str, np.ndarray], z_um: np.ndarray, scope: Microscope, method: str, eps: float
) -> np.ndarray | None:
    """Multi-plane TIE on the planes at `z_um` → (N, 2, H, W): phase (rad, mean 0) and the amplitude
    √Ī of the symmetric planes' mean (what TIE takes as the in-focus intensity). None when the
    planes cannot give dI/dz (one plane, or not symmetric about focus)."""
    from qpi import tie

    z = np.asarray(z_um, float)
    if not tie_possible(z):
        return None
    planes = data["planes"][:, plane_index(data["z_um"], z)].astype(float)
    out = []
    for stack in planes:
        s = Stack(data=stack, z_um=z, wavelength_um=scope.wavelength_um, pixel_um=scope.pixel_um,
                  medium_index=scope.medium_index)
        out.append([tie.solve(s, method=method, eps=eps), np.sqrt(np.clip(stack.mean(axis=0), 0, None))])
    return np.asarray(out, np.float32)


def score(prediction: np.ndarray, data: dict[str, np.ndarray], reference: str = "exact", **labels) -> list[dict]:
    """Score rows (`scores.COLUMNS`) of predictions (N, C, H, W) against the dataset's phase (the exact
    truth, or on a lab's stacks their label: `reference`): channel 0 is phase (piston removed), channel
    1 (if present) amplitude; only the MAE against a flat truth."""
    rows = []
    for quantity, channel in (("phase", 0), ("amplitude", 1)):
        if channel >= prediction.shape[1]:
            continue
        for i, (pred, truth) in enumerate(zip(prediction[:, channel], data[quantity][:, 0])):
            rows += image_rows(pred, truth, quantity=quantity, reference=reference, names=PIXEL_METRICS, **labels,
                               image=i)
    return rows


def evaluate_sets(predict_fn, sets: dict[str, dict], z_um: np.ndarray | None, reference: str = "exact",
                  **labels) -> tuple[list[dict], dict]:
    """Apply `predict_fn(data, z_um)` → (N, C, H, W) or None to every test set; score rows (the test set
    is the test condition; `planes` their count) and the predictions by test set. `z_um` None: each
    set's own planes (a lab's stacks, whose planes are known once read)."""
    rows, predictions = [], {}
    for name, data in sets.items():
        z = data["z_um"] if z_um is None else z_um
        prediction = predict_fn(data, z)
        if prediction is None:
            continue
        predictions[name] = prediction
        rows += score(prediction, data, reference, **labels, test_condition=name, planes=len(z))
    return rows, predictions


def convergence_table(runs: dict[tuple[str, int], pd.DataFrame]) -> pd.DataFrame:
    """Validation curves {(model, seed): epochs.csv rows} → model, seed, step, val_mae, val_ssim, val_psnr.

    `val_loss` is the eval-mode loss, i.e. the MAE of the full-resolution output (rad) for the L1 losses.
    """
    frames = [
        df.rename(columns={"val_loss": "val_mae"}).assign(model=model, seed=seed)
        for (model, seed), df in runs.items()
    ]
    columns = ["model", "seed", "step", "epoch", "val_mae", "val_ssim", "val_psnr"]
    return pd.concat(frames, ignore_index=True)[columns].sort_values(["model", "seed", "step"], ignore_index=True)


def transfer_table(per_image: pd.DataFrame, family: str, train_condition: str | None) -> pd.DataFrame:
    """The cross-condition table: family, model, train_condition, test_condition, seed, metric, value
    (mean over the test images; amplitude metrics are prefixed `amplitude_`; TIE, which is not
    trained, has train_condition "none"). `train_condition` None keeps each row's own (a lab's stacks:
    the simulated and the fine-tuned networks)."""
    trained = per_image["train_condition"] if train_condition is None else train_condition
    return condition_means(per_image.assign(
        family=family, train_condition=np.where(per_image["model"] == "tie", "none", trained),
        metric=np.where(per_image["quantity"] == "phase", per_image["metric"], "amplitude_" + per_image["metric"])))


def per_image_view(rows: pd.DataFrame) -> pd.DataFrame:
    """The family's score rows in its tables' words: `method` (the model), `condition` (the planes
    it sees, i.e. its train condition) and `test_set`."""
    return rows.rename(columns={"model": "method", "train_condition": "condition", "test_condition": "test_set"})


def seed_summary(table: pd.DataFrame, metrics: tuple[str, ...] = ("ssim", "mae")) -> pd.DataFrame:
    """A transfer table as one row per (model, training set, test condition): `metric` "mean ± std" over seeds."""
    table = table[table["metric"].isin(metrics)]
    keys = ["model", "train_condition", "test_condition"]
    grouped = table.groupby([*keys, "metric"], sort=False)["value"]
    stats = grouped.agg(mean="mean", std=lambda v: v.std(ddof=0)).reset_index()
    stats["value"] = [f"{m:.3f} ± {s:.3f}" for m, s in zip(stats["mean"], stats["std"])]
    wide = stats.pivot(index=keys, columns="metric", values="value")
    return wide[list(metrics)].reset_index()
