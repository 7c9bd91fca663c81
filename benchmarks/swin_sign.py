"""Why the Swin-only CycleGAN is seed-unstable: the phase's sign, the inputs and the discriminator.

    snakemake --cores all results/contrans/data/hela/{train_a,train_b,test}.npz   # the demo's data
    python benchmarks/swin_sign.py            # → benchmarks/swin_sign.json (about 15 min on 2 cores)

1. Symmetry: a thin phase object imaged in focus by an aberration-free objective gives the same
   intensity for phase φ and −φ (the coherent PSF is real, so the field of the conjugate object is
   the conjugate field). The demo's ContransGAN inputs are in focus, so they hold no trace of the
   phase's sign; cycle consistency cannot see it either. Only the phase domain's discriminator D_B
   (cells are positive bumps on a 0 rad background) can tell a generator that its sign is wrong.
   Measured here: the sign-odd part (I[φ] − I[−φ])/2 of one demo slide, in focus and 1 µm off.
2. Seeds: each generator of the comparison (config.yaml's contrans models and training, HeLa 10×)
   trained for `--seeds` seeds; per run the correlation r of G_AB's output with the TIE label at
   initialisation and after training, and the test SSIM. A generator whose r ends negative has
   learnt the inverted phase.
3. Discriminator probe: each trained D_B scores the real phases, the fakes, the fakes with their sign
   turned (same range) and the fakes smoothed by a 5×5 mean. What raises a fake's score most is
   what D_B holds against it.
4. Control (`swin_blurred_d`): the Swin-only generator trained against discriminators that see
   every image (real and fake) as 4×4 block means, i.e. blind to the 4×4 patch texture the Swin
   generator draws. If the sign then comes out right on every seed, the texture is what crowds the
   sign out of D_B's verdict. A probe of the cause, not a setting the pipeline uses.
5. Width (`--width W --models swin --out ...`): the same study with wider generators, to tell a
   demo-scale effect from one of the layout.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from qpi import models
from qpi.families import contrans  # noqa: E402
from qpi.models.registry import register  # noqa: E402
from qpi.optics.imaging import Microscope, camera_intensity  # noqa: E402
from qpi.optics.phantoms import make_phantom  # noqa: E402
from qpi.training.accel import seed_everything  # noqa: E402
from qpi.training.cycle_gan import CycleConfig, domain_scale, train_cycle  # noqa: E402
from qpi.training.evaluate import predict_batches  # noqa: E402
from qpi.training.patches import load_dataset  # noqa: E402

DATA = ROOT / "results" / "contrans" / "data" / "hela"
OBJECTIVE = "10x"
BLOCK = 4  # the Swin generator's patch: its output is drawn in 4×4 blocks


@register("patchgan_blocks")
class BlockMeanPatchGAN(torch.nn.Module):
    """The PatchGAN of the comparison seeing its input as `block`×`block` means, blown back up."""

    def __init__(self, block: int = BLOCK, **patchgan):
        super().__init__()
        self.block, self.inner = block, models.build("patchgan", **patchgan)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        blocks = F.interpolate(F.avg_pool2d(x, self.block, ceil_mode=True), scale_factor=self.block, mode="nearest")
        return self.inner(blocks[..., : x.shape[-2], : x.shape[-1]])


def demo_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def sign_symmetry(cfg: dict) -> dict:
    """rms of the sign-odd part of one demo HeLa slide's intensity contrast, per objective and focus."""
    c = cfg["contrans"]
    objectives, label = contrans.scopes(cfg["microscope"], c)
    label = Microscope(**label)
    size = c["tiles"] * c["hr_px"] * c["hr_binning"] * label.oversample
    phase, amplitude = make_phantom("hela", (size, size), label.sim_pixel_um, label.wavelength_um,
                                    np.random.default_rng(0), **c["specimens"]["hela"].get("params", {}))
    out = {}
    for name, spec in objectives.items():
        scope = Microscope(**spec)
        factor = contrans.ratio(scope.sim_pixel_um, label.sim_pixel_um, name)
        for z in (0.0, 1.0):
            plus, minus = (camera_intensity(contrans.resample(amplitude * np.exp(s * 1j * phase), factor),
                                            np.array([z]), scope)[0] - 1 for s in (1, -1))
            out[f"{name}_z{z:g}um"] = {"contrast_rms": float(plus.std()),
                                       "sign_odd_rms": float(((plus - minus) / 2).std())}
    return out


def against_label(prediction: np.ndarray, test: dict) -> tuple[float, float]:
    """Mean test SSIM and Pearson r against the TIE label, as the pipeline scores them (contrans.score)."""
    rows = contrans.score(prediction, test, test_condition=OBJECTIVE)
    return contrans.tile_mean(rows, "ssim", OBJECTIVE), contrans.tile_mean(rows, "pearson", OBJECTIVE)


def d_probe(d: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor, scale: float) -> dict:
    """D_B's mean score (1 = real) of the real phases and of three edits of the fakes."""
    d.eval()
    turned = fake.amax((2, 3), keepdim=True) + fake.amin((2, 3), keepdim=True) - fake
    smooth = F.avg_pool2d(F.pad(fake, (2, 2, 2, 2), mode="replicate"), 5, 1)
    with torch.no_grad():
        return {k: round(float(d(v / scale).mean()), 3)
                for k, v in {"real": real, "fake": fake, "fake_sign_turned": turned, "fake_smoothed": smooth}.items()}


def one_run(job: tuple[str, int, int | None]) -> dict:
    name, seed, width = job
    torch.set_num_threads(1)
    cfg = demo_config()["contrans"]
    arch = dict(cfg["models"]["swin" if name == "swin_blurred_d" else name])
    arch["width"] = width or arch["width"]
    arch_name = arch.pop("arch")
    train_a, train_b, test = (load_dataset(DATA / f"{p}.npz") for p in ("train_a", "train_b", "test"))
    domain_a = contrans.network_input(train_a[f"lr_{OBJECTIVE}"], cfg["hr_px"])
    domain_b = train_b["tie"]
    x_test = contrans.network_input(test[f"lr_{OBJECTIVE}"], cfg["hr_px"])
    train = {**cfg["train"], "seed": seed, "device": "cpu", "threads": 1}
    if name == "swin_blurred_d":
        train["discriminator"] = {**train["discriminator"], "arch": "patchgan_blocks"}
    sa, sb = domain_scale(domain_a), domain_scale(domain_b)
    seed_everything(seed)  # as train_cycle: G_AB is the first network built after seeding
    g0 = models.build(arch_name, **arch, in_channels=1, out_channels=1, in_scale=sa, out_scale=sb)
    _, r_init = against_label(predict_batches(g0, x_test), test)
    with tempfile.TemporaryDirectory() as work:
        cycle = CycleConfig.from_dict(train)
        train_cycle(arch_name, arch, domain_a, domain_b, train_a["fov"], train_b["fov"], cycle, work)
        state = torch.load(Path(work) / "last.pt", weights_only=False, map_location="cpu")
    g = models.build(arch_name, **state["kwargs"])
    g.load_state_dict(state["state_dict"])
    prediction = predict_batches(g, x_test)
    spec = dict(train["discriminator"])
    d = models.build(spec.pop("arch"), **spec, in_channels=1)
    d.load_state_dict(state["states"]["d_b"])
    ssim, r_final = against_label(prediction, test)
    return {"model": name, "seed": seed, "width": arch["width"], "r_init": round(r_init, 3),
            "r_final": round(r_final, 3), "ssim": round(ssim, 3),
            "d_b": d_probe(d, torch.from_numpy(test["tie"]), torch.from_numpy(prediction), sb)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=["contrans", "cnn", "swin", "swin_blurred_d"])
    parser.add_argument("--width", type=int, help="every generator at this width instead of config.yaml's")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "swin_sign.json")
    args = parser.parse_args()
    cfg = demo_config()
    result = {"symmetry": sign_symmetry(cfg)}
    jobs = [(m, s, args.width) for m in args.models for s in range(args.seeds)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:  # one thread each, as the demo's trainings
        runs = []
        for run in pool.imap(one_run, jobs):
            print(json.dumps(run), flush=True)
            runs.append(run)
    result["runs"] = runs
    result["summary"] = {m: {"ssim_mean": round(float(np.mean([r["ssim"] for r in runs if r["model"] == m])), 3),
                             "ssim_std": round(float(np.std([r["ssim"] for r in runs if r["model"] == m])), 3),
                             "inverted": sum(r["r_final"] < 0 for r in runs if r["model"] == m),
                             "seeds": sum(r["model"] == m for r in runs)} for m in args.models}
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["summary"], indent=1))


if __name__ == "__main__":
    main()
