"""ContransGAN family data: multi-objective acquisition, unpaired domains, scores, tables, sphere heights.

A *slide* is a square of `tiles`×`tiles` high-resolution fields of view (FOV) holding one specimen
(HeLa-like cells or 3 µm polystyrene spheres in water). The virtual microscope images it through
every low-NA objective at S ≈ 0.6 (the inputs) and through the 40×/0.65 objective at S ≈ 0.3 at
−Δz, 0, +Δz (the label), all with the same camera. Each low-NA frame is cut into tiles of the HR FOV
(the paper's 10× frame → 16 tiles is the same cut; a slide holds only the tiles used). The label is
TIE (Neumann/DCT) on the slide's 40× stack, binned by `hr_binning` to the HR grid, background set to
0 rad, then cut like the inputs (TIE on each small tile alone suffers from cells cut by its border;
a real 40× frame is far larger than a demo tile). The exact phase is kept beside it so the TIE label
itself can be scored.

Domains: A = low-NA intensity tiles, B = HR phases. The unpaired training parts `train_a` and
`train_b` come from different slides (never the same FOV); `test` slides keep both sides of every
tile for scoring. Fields of view carry ids (`fov`) so the loader can prove it never pairs them.

Grids: the specimen lives on the 40× simulation grid (camera pixel / magnification / oversample);
an objective images it after an exact Fourier resampling to its own simulation grid (its pupil
discards everything the crop removes), so low-NA images cost little. Network input: intensity
contrast I − 1 of a tile brought to the HR grid (cubic up-sampling, or binning for 40×).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy import fft
from tqdm import tqdm

from qpi import tie
from qpi.core import paths
from qpi.core.logs import progress_stream
from qpi.core.papers import PAPER_TABLE1
from qpi.io import Stack
from qpi.optics.binning import bin_pixels, upsample
from qpi.optics.imaging import Microscope, camera_intensity, shot_noise
from qpi.optics.phantoms import height_from_phase, make_phantom
from qpi.scoring.scores import CORRELATION, PIXEL_METRICS, condition_means, image_rows, seed_spread, wide
from qpi.training.tiles import whole_tiles

log = logging.getLogger("qpi.families.contrans")
PARTS = ("train_a", "train_b", "test")
FOV_OFFSET = {"train_a": 0, "train_b": 100_000, "test": 200_000}  # fov ids of different parts never meet
REFERENCES = ("tie", "measured", "exact")  # the phases a test tile may hold; the first it holds is its label


def conditions(cfg: dict) -> dict[str, dict]:
    """The family's train and test conditions: the input objectives (magnification, NA), in order."""
    return dict(cfg["objectives"])


def runs(cfg: dict) -> list[tuple[str, str, str]]:
    """(specimen, training objective, model) of every network of the family config `cfg`:
    ContransGAN on every specimen and objective (Table 1, cross-NA), the baselines on one."""
    out = [(s, o, "contrans") for s in cfg["specimens"] for o in cfg["objectives"]]
    base = cfg["baselines"]
    return out + [(base["specimen"], base["objective"], m) for m in base["models"]]


def baseline_seeds(cfg: dict) -> list[int]:
    """Seeds of the model comparison's runs (ContransGAN and its baselines on one setting): the
    baselines' own `seeds`, else the family's. An ordering needs replicates where a sweep may not."""
    return cfg["baselines"].get("seeds") or cfg["seeds"]


def scored(cfg: dict, output: str = "scores") -> list[str]:
    """Evaluation `output`s of every run: the sweep's seeds, and the comparison's seeds on its setting."""
    base = cfg["baselines"]
    compared = [r for r in runs(cfg) if r[:2] == (base["specimen"], base["objective"])]
    return list(dict.fromkeys(eval_paths(runs(cfg), cfg["seeds"], output)
                              + eval_paths(compared, baseline_seeds(cfg), output)))


def eval_paths(runs: list[tuple[str, str, str]], seeds: list[int], output: str = "scores") -> list[str]:
    """Evaluation `output`s (scores, predictions) of `runs`, seed by seed within each run."""
    return [paths.fill(paths.CONTRANS[output], specimen=s, objective=o, model=m, seed=seed)
            for s, o, m in runs for seed in seeds]


def scopes(microscope: dict, cfg: dict) -> tuple[dict, dict]:
    """Microscope keys of each input objective (at the input coherence) and of the label objective."""
    base = {**microscope, **cfg["microscope"]}
    label = {k: v for k, v in cfg["label"].items() if k in ("magnification", "na", "coherence")}
    objectives = {o: {**base, **spec, "coherence": cfg["input_coherence"]} for o, spec in cfg["objectives"].items()}
    return objectives, {**base, **label}


def hr_pixel_um(label: dict, hr_binning: int) -> float:
    """Pixel of the HR grid: the label objective's camera pixel in the sample, × `hr_binning`."""
    return label["camera_pixel_um"] / label["magnification"] * hr_binning


def ratio(big: float, small: float, what: str) -> int:
    """`big`/`small` as an integer, or one clear error naming `what`."""
    r = big / small
    if abs(r - round(r)) > 1e-6 or round(r) < 1:
        raise ValueError(f"{what}: {big:g} / {small:g} = {r:.4g} is not a whole number; "
                         f"choose hr_px, hr_binning and magnifications that divide evenly")
    return int(round(r))


def tile_px(hr_px: int, hr_pixel_um: float, scope: Microscope) -> int:
    """Camera pixels of `scope` across one HR field of view of `hr_px` pixels of `hr_pixel_um`."""
    return ratio(hr_px * hr_pixel_um, scope.pixel_um, f"HR field of view in {scope.magnification:g}× pixels")


def resample(field: np.ndarray, factor: int) -> np.ndarray:
    """A complex field on a grid `factor`× coarser by cropping its spectrum (ideal low-pass)."""
    if factor == 1:
        return field
    n = np.array(field.shape)
    m = n // factor
    if np.any(m * factor != n):
        raise ValueError(f"a {tuple(n)} grid cannot be resampled by {factor}")
    spectrum = fft.fftshift(fft.fft2(field))
    lo = n // 2 - m // 2
    cropped = spectrum[lo[0] : lo[0] + m[0], lo[1] : lo[1] + m[1]]
    return fft.ifft2(fft.ifftshift(cropped)) / factor**2


def image_slide(transmittance: np.ndarray, fine_um: float, scope: Microscope, z_um, photons: float,
                rng: np.random.Generator) -> np.ndarray:
    """Noisy camera intensities (Z, Y, X) of `scope` (relative to the empty field) of a transmittance
    given on a grid of `fine_um`; shot noise of `photons` per pixel at unit intensity."""
    factor = ratio(scope.sim_pixel_um, fine_um, f"{scope.magnification:g}× simulation grid")
    return shot_noise(camera_intensity(resample(transmittance, factor), np.asarray(z_um, float), scope), photons, rng)


def cut(image: np.ndarray, tiles: int) -> np.ndarray:
    """A square slide (..., T·h, T·h) → its (T², ..., h, h) tiles in row-major order."""
    return whole_tiles(image, image.shape[-1] // tiles)


def tie_label(stack: np.ndarray, dz_um: float, scope: Microscope, hr_binning: int, method: str, eps: float) -> np.ndarray:
    """TIE phase of one 40× stack (−Δz, 0, +Δz), binned to the HR grid, background at 0 rad."""
    s = Stack(data=stack, z_um=np.array([-dz_um, 0.0, dz_um]), wavelength_um=scope.wavelength_um,
              pixel_um=scope.pixel_um, medium_index=scope.medium_index)
    return tie.remove_background(bin_pixels(tie.solve(s, method=method, eps=eps), hr_binning)).astype(np.float32)


def acquire(part: str, slides: int, specimen: dict, objectives: dict[str, Microscope], label: Microscope,
            dz_um: float, tiles: int, hr_px: int, hr_binning: int, photons: float, tie_method: str,
            eps: float, seed: list[int], min_phase_rad: float = 0.0) -> dict[str, np.ndarray]:
    """Tiles of `slides` slides (slide i from the seed [*seed, i]) for one part.

    Returns `fov` (N,) ids and, as (N, 1, h, w) arrays: `lr_<objective>` intensities (train_a, test),
    `tie` and `exact` HR phases (train_b, test). Tiles whose exact phase spans less than
    `min_phase_rad` (empty background) are dropped, in every part."""
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; choose one of {', '.join(PARTS)}")
    hr_pixel = label.pixel_um * hr_binning
    fine_um = label.sim_pixel_um
    size = tiles * hr_px * hr_binning * label.oversample  # slide side on the fine grid
    for scope in objectives.values():
        tile_px(hr_px, hr_pixel, scope)  # fail early on a grid that does not divide
    out: dict[str, list] = {"fov": []}
    for i in tqdm(range(slides), file=progress_stream(log), mininterval=10, ascii=True):
        rng = np.random.default_rng([*seed, i])
        phase, amplitude = make_phantom(specimen["kind"], (size, size), fine_um, label.wavelength_um, rng,
                                        **specimen.get("params", {}))
        t = amplitude * np.exp(1j * phase)
        exact = cut(bin_pixels(phase, hr_binning * label.oversample), tiles)
        keep = np.ptp(exact, axis=(1, 2)) >= min_phase_rad
        out["fov"].append((FOV_OFFSET[part] + i * tiles**2 + np.arange(tiles**2))[keep])
        if part != "train_b":
            for name, scope in objectives.items():
                frame = image_slide(t, fine_um, scope, [0.0], photons, rng)[0]
                out.setdefault(f"lr_{name}", []).append(cut(frame, tiles)[keep, None])
        if part != "train_a":
            stack = image_slide(t, fine_um, label, [-dz_um, 0.0, dz_um], photons, rng)
            out.setdefault("tie", []).append(
                cut(tie_label(stack, dz_um, label, hr_binning, tie_method, eps), tiles)[keep, None])
            out.setdefault("exact", []).append(exact[keep, None])
    data = {k: np.concatenate(v).astype(np.float32) for k, v in out.items()}
    if not len(data["fov"]):
        raise ValueError(f"{part}: no tile holds a specimen (phase span ≥ {min_phase_rad} rad); "
                         "add slides or specimens per slide")
    return data


def network_input(lr: np.ndarray, hr_px: int) -> np.ndarray:
    """Intensity tiles (N, 1, h, w) → contrast I − 1 on the HR grid (N, 1, hr_px, hr_px): cubic
    up-sampling of coarser tiles, binning of finer ones (40×)."""
    _, _, h, w = lr.shape
    if h != w:
        raise ValueError(f"tiles must be square, got {h}×{w}")
    return np.stack([onto_hr_grid(x[0], hr_px / h) for x in lr])[:, None]


def onto_hr_grid(image: np.ndarray, coarser: float) -> np.ndarray:
    """An intensity image (h, w) with pixels `coarser`× the HR grid's → contrast I − 1 on the HR grid:
    cubic up-sampling of a coarser image, binning of a finer one (40×); the ratio must be whole."""
    if coarser >= 1:
        factor = ratio(coarser, 1.0, "input pixel over HR pixel")
        image = upsample(image, factor) if factor > 1 else image
    else:
        image = bin_pixels(image, ratio(1.0, coarser, "HR pixel over input pixel"))
    return (np.asarray(image) - 1.0).astype(np.float32)


# --- evaluation ---------------------------------------------------------------------------------------


def score(prediction: np.ndarray, test: dict[str, np.ndarray], **labels) -> list[dict]:
    """Score rows (`scores.COLUMNS`, and the tile's `fov`) of SSIM, PSNR, NRMSE, MAE of predicted phases
    against every phase the test tiles hold (the TIE label as the paper, a measured phase, the exact
    phase), pistons removed, and their Pearson r: the in-focus inputs hold no trace of the phase's
    sign, so a generator may learn the inverted phase (r < 0)."""
    rows = []
    for reference in (r for r in REFERENCES if r in test):
        for i, (pred, truth) in enumerate(zip(prediction[:, 0], test[reference][:, 0])):
            rows += image_rows(pred, truth, quantity="phase", reference=reference, names=(*PIXEL_METRICS, CORRELATION),
                               **labels, image=i, fov=int(test["fov"][i]))
    return rows


def tile_mean(rows: list[dict], metric: str, objective: str, label: str = "tie") -> float:
    """Mean of `metric` against the phase label over the test tiles of `objective` (score rows)."""
    return float(np.nanmean([r["value"] for r in rows if r["test_condition"] == objective
                             and r["reference"] == label and r["metric"] == metric]))


def per_image_view(rows: pd.DataFrame) -> pd.DataFrame:
    """The family's score rows, one column per metric, in its own words: the train and test
    conditions are objectives (`train_objective`, `test_objective`)."""
    return wide(rows).rename(columns={"train_condition": "train_objective", "test_condition": "test_objective"})


def objectives_table(per_image: pd.DataFrame, model: str = "contrans", label: str = "tie") -> pd.DataFrame:
    """Table 1: `model` trained and tested on the same objective; SSIM and PSNR mean ± std over test
    tiles (all seeds pooled, as the paper's spread) against the phase label (`label`: TIE, or a lab's
    measured phase), the same against the exact phase, the std over seeds of each seed's mean (the replicates' spread; 0 with one seed), the
    correlation r with the label and the seeds whose r is negative (they learnt the inverted phase),
    and the paper's values beside."""
    rows = per_image[(per_image["model"] == model) & (per_image["train_objective"] == per_image["test_objective"])]
    out = []
    for (specimen, objective), g in rows.groupby(["specimen", "test_objective"], sort=False):
        tie_rows, exact_rows = g[g["reference"] == label], g[g["reference"] == "exact"]
        spread = seed_spread(tie_rows, ["test_objective"], ["ssim", "psnr"]).iloc[0]
        paper = PAPER_TABLE1.get(specimen, {}).get(objective, (np.nan,) * 4)
        out.append({
            "specimen": specimen, "objective": objective, "n_images": tie_rows["image"].nunique(),
            "seeds": spread["seeds"],
            "ssim": tie_rows["ssim"].mean(), "ssim_std": tie_rows["ssim"].std(ddof=0),
            "ssim_seed_std": spread["ssim_seed_std"],
            "paper_ssim": paper[0], "paper_ssim_std": paper[1],
            "psnr": tie_rows["psnr"].mean(), "psnr_std": tie_rows["psnr"].std(ddof=0),
            "psnr_seed_std": spread["psnr_seed_std"],
            "paper_psnr": paper[2], "paper_psnr_std": paper[3],
            "ssim_exact": exact_rows["ssim"].mean(), "psnr_exact": exact_rows["psnr"].mean(),
            "pearson": tie_rows["pearson"].mean(),
            "inverted_seeds": int((tie_rows.groupby("seed")["pearson"].mean() < 0).sum()),
        })
    return pd.DataFrame(out)


def objectives_wide(table: pd.DataFrame) -> pd.DataFrame:
    """Table 1 for reading: ours and the paper's "mean ± std" side by side, as text."""
    pm = lambda m, s, d: "n/a" if np.isnan(m) else f"{m:.{d}f} ± {s:.{d}f}"  # noqa: E731
    return pd.DataFrame({
        "specimen": table["specimen"], "objective": table["objective"], "tiles": table["n_images"],
        "seeds": table["seeds"],
        "SSIM (ours)": [pm(m, s, 3) for m, s in zip(table["ssim"], table["ssim_std"])],
        "SSIM seed std": [f"{v:.3f}" for v in table["ssim_seed_std"]],
        "SSIM (paper)": [pm(m, s, 3) for m, s in zip(table["paper_ssim"], table["paper_ssim_std"])],
        "PSNR dB (ours)": [pm(m, s, 1) for m, s in zip(table["psnr"], table["psnr_std"])],
        "PSNR dB (paper)": [pm(m, s, 1) for m, s in zip(table["paper_psnr"], table["paper_psnr_std"])],
        "SSIM vs exact (ours)": [f"{v:.3f}" for v in table["ssim_exact"]],
        "r (ours)": [f"{v:+.2f}" for v in table["pearson"]],
        "inverted seeds": table["inverted_seeds"].astype(str),
    })


def objectives_markdown(table: pd.DataFrame) -> str:
    """Table 1 as Markdown (`objectives_wide`)."""
    return objectives_wide(table).to_markdown(index=False, disable_numparse=True)  # keep "0.020", not 0.02


def cross_table(per_image: pd.DataFrame, model: str = "contrans", label: str = "tie") -> pd.DataFrame:
    """Mean SSIM and PSNR (against the phase label) of `model` over the test tiles for every (specimen,
    train objective, test objective, seed)."""
    rows = per_image[(per_image["model"] == model) & (per_image["reference"] == label)]
    keys = ["specimen", "train_objective", "test_objective", "seed"]
    return rows.groupby(keys, sort=False)[["ssim", "psnr"]].mean().reset_index()


def cross_condition(cross_na: pd.DataFrame) -> pd.DataFrame:
    """The cross-NA table (`cross_table`) as cross-condition rows: a network is trained per specimen,
    so the specimen names the model (`contrans-<specimen>`); objectives are the conditions."""
    long = cross_na.melt(id_vars=["specimen", "train_objective", "test_objective", "seed"],
                         value_vars=["ssim", "psnr"], var_name="metric", value_name="value")
    return condition_means(long.assign(family="contrans", model="contrans-" + long["specimen"],
                                       train_condition=long["train_objective"],
                                       test_condition=long["test_objective"]))


def example_tile(labels: np.ndarray) -> tuple[int, int]:
    """The test tile (N, H, W) with the most phase structure (largest std) and its row through the
    highest phase: the comparison figure's example and profile line."""
    index = int(np.argmax(labels.reshape(len(labels), -1).std(axis=1)))
    return index, int(np.unravel_index(np.argmax(labels[index]), labels[index].shape)[0])


# --- sphere heights -----------------------------------------------------------------------------------


def sphere_heights(phase: np.ndarray, pixel_um: float, wavelength_um: float, delta_n: float,
                   diameter_um: float, threshold: float = 0.3) -> pd.DataFrame:
    """Spheres found in one phase image (rad): the local maxima at least a radius apart and from the
    border (spheres cut by the tile edge are skipped) that reach `threshold` of the image's highest
    phase above the background (the histogram mode, set to 0). Height = peak phase·λ/(2π·Δn)."""
    from skimage.feature import peak_local_max

    phase = tie.remove_background(np.asarray(phase, float))
    radius_px = max(int(round(diameter_um / 2 / pixel_um)), 1)
    peaks = np.zeros((0, 2), int)
    if phase.max() > 0:
        peaks = peak_local_max(phase, min_distance=radius_px, threshold_abs=threshold * phase.max(),
                               exclude_border=radius_px).reshape(-1, 2)
    values = phase[peaks[:, 0], peaks[:, 1]].astype(float)
    return pd.DataFrame({"y": peaks[:, 0], "x": peaks[:, 1], "peak_rad": values,
                         "height_um": height_from_phase(values, wavelength_um, delta_n)})


def heights_table(phases: dict[tuple[str, str], np.ndarray], pixel_um: float, wavelength_um: float, delta_n: float,
                  diameter_um: float, threshold: float = 0.3) -> pd.DataFrame:
    """Spheres of every phase image in {(source, objective): (N, 1, H, W)} → rows source, objective,
    tile, y, x, peak_rad, height_um."""
    frames = [sphere_heights(image[0], pixel_um, wavelength_um, delta_n, diameter_um, threshold)
              .assign(source=source, objective=objective, tile=i)
              for (source, objective), images in phases.items() for i, image in enumerate(images)]
    columns = ["source", "objective", "tile", "y", "x", "peak_rad", "height_um"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def height_summary(heights: np.ndarray, true_um: float) -> dict[str, float]:
    """Count, median (µm) and its relative error against `true_um`, and the 5–95 % range."""
    heights = np.asarray(heights, float)
    if heights.size == 0:
        return {"count": 0, "median_um": np.nan, "relative_error": np.nan, "p5_um": np.nan, "p95_um": np.nan}
    median = float(np.median(heights))
    return {"count": int(heights.size), "median_um": median, "relative_error": abs(median - true_um) / true_um,
            "p5_um": float(np.percentile(heights, 5)), "p95_um": float(np.percentile(heights, 95))}
