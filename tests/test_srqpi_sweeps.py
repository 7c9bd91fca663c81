"""DL-SRQPI sweeps: re-imaging the same specimens, the defocus-adaptive set, sweep tables, microlens heights."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from qpi.families import srqpi
from qpi.families.srqpi import figures
from qpi.optics.imaging import Camera, Microscope, source_points
from qpi.optics.phantoms import microlens_array
from qpi.optics.simulate import simulate_field
from qpi.report import summary


def test_reimaging_at_another_coherence_keeps_the_specimen_and_changes_the_image():
    scope = Microscope(oversample=1)
    base, truth, _ = simulate_field("hela", [0, 3], [0.0, 2.0], scope, Camera(), 48)
    again, truth_again, _ = simulate_field("hela", [0, 3], [0.0, 2.0], Microscope(oversample=1, coherence=0.0),
                                           Camera(), 48)
    assert np.array_equal(truth, truth_again) and truth.max() > 0.5
    assert again.coherence == 0.0 and not np.array_equal(base.data, again.data)
    # coherent light keeps more defocus contrast than S = 0.3
    assert again.plane(2.0).std() > base.plane(2.0).std()


def test_every_partial_coherence_is_sampled_by_more_than_one_source_point():
    shape, pixel, na, wavelength = (1024, 1024), 0.08125, 0.65, 0.55
    assert len(source_points(shape, pixel, na, wavelength, 0.0, step=0.1)) == 1  # S = 0: coherent
    for s in (0.1, 0.2, 0.3, 0.4):  # at the default step too, where S = 0.1 once got only its centre
        assert len(source_points(shape, pixel, na, wavelength, s, step=0.1)) >= 5, s


def test_conditions_know_their_coherence_and_planes():
    assert srqpi.reimaged({"defocus_um": 2, "coherence": 0.1}, 0.3)
    assert not srqpi.reimaged({"defocus_um": 2, "coherence": 0.3}, 0.3) and not srqpi.reimaged({"defocus_um": 2}, 0.3)
    assert srqpi.planes_um(4, [-2, 2]) == [-2.0, 0.0, 2.0, 4.0]
    conditions = {"z2": {"defocus_um": 2}, "S0": {"defocus_um": 2, "coherence": 0.0}}
    assert srqpi.sweep_values(conditions, "coherence", 0.3) == {"z2": 0.3, "S0": 0.0}
    assert srqpi.sweep_values(conditions, "defocus", 0.3) == {"z2": 2.0, "S0": 2.0}


def member(value, n=30):
    """A dataset whose inputs are all `value`, with labels shared by every member."""
    labels = np.arange(n, dtype=np.float32)[:, None, None, None] * np.ones((1, 1, 8, 8), np.float32)
    return {f"{k}_{part}": (np.full((n, 1, 2, 2), value, np.float32) if k == "x" else labels)
            for part in ("train", "val", "test") for k in ("x", "y")}


def test_adaptive_set_uses_every_location_once_with_inputs_shared_equally():
    out, provenance = srqpi.adaptive_dataset([member(1.0), member(2.0), member(3.0)], seed=0)
    assert out["x_train"].shape == (30, 1, 2, 2) and np.array_equal(out["y_train"], member(0)["y_train"])
    assert np.bincount(out["x_train"][:, 0, 0, 0].astype(int))[1:].tolist() == [10, 10, 10]
    assert np.array_equal(out["x_train"][:, 0, 0, 0], out["member_train"] + 1)  # input i comes from member i
    assert provenance["patches"]["train"] == 30
    other = member(2.0)
    other["y_val"] = other["y_val"] + 1
    with pytest.raises(ValueError, match="val labels"):
        srqpi.adaptive_dataset([member(1.0), other], seed=0)


@pytest.fixture
def scores():
    rows = [dict(stack=f"f{i}", reference=ref, train_condition=a, test_condition=b, seed=0, method="unet",
                 ssim=(0.9 if a == b else 0.6) + 0.01 * i - (0.5 if ref == "tie" else 0), psnr=20.0, nrmse=0.1,
                 mae=0.05, lpips=np.nan, seconds_per_mpx=1.0)
            for a in ("z2", "z4", "defocus-adaptive") for b in ("z2", "z4") for i in range(3)
            for ref in ("exact", "tie")]
    return pd.DataFrame(rows)


def test_sweep_tables_score_against_the_exact_phase_and_become_tidy(scores):
    per_image = srqpi.sweep_per_image(scores, {"z2": 2.0, "z4": 4.0})
    assert set(per_image["reference"]) == {"exact"} and len(per_image) == 18
    assert per_image.loc[per_image["train_condition"] == "defocus-adaptive", "train_value"].isna().all()
    table = srqpi.sweep_summary(per_image)
    cell = table[(table["train_condition"] == "z4") & (table["test_condition"] == "z4")]
    assert cell["ssim"].item() == pytest.approx(0.91) and cell["n_images"].item() == 3
    assert len(table) == 6 and table.loc[table["train_condition"] == "defocus-adaptive", "train_value"].isna().all()
    assert list(table.columns[:6]) == ["reference", "train_condition", "test_condition", "train_value", "test_value",
                                       "seed"]
    tidy = srqpi.cross_tidy(per_image, "srqpi", "unet-defocus")
    assert list(tidy.columns) == summary.CROSS_COLUMNS and len(tidy) == 6 * 4
    off = tidy[(tidy["train_condition"] == "z2") & (tidy["test_condition"] == "z4") & (tidy["metric"] == "ssim")]
    assert off["value"].item() == pytest.approx(0.61)
    grids = summary.cross_grids(summary.cross_condition([tidy]))
    assert grids[("srqpi", "unet-defocus", "ssim")].shape == (3, 2)
    fig = figures.sweep(per_image, "defocus z (µm)")
    assert len(fig.axes[0].get_legend().get_texts()) == 3 and "adaptive" in fig.axes[1].get_title()
    plt.close(fig)


def test_microlens_heights_are_exact_for_the_truth_and_scale_with_the_phase():
    pixel, wavelength, delta_n = 0.2, 0.55, 0.46
    truth, _ = microlens_array((200, 200), pixel, wavelength, pitch_um=10.0, roc_um=12.4, delta_n=delta_n)
    sag = 12.4 - np.sqrt(12.4**2 - 5.0**2)  # the cap's centre height, 1.05 µm
    phases = {"exact": truth, "offset": truth + 3.0, "flat 90 %": 0.9 * truth}
    table, heights = srqpi.microlens_heights(phases, truth, wavelength, delta_n, pitch_px=10.0 / pixel)
    table = table.set_index("method")
    assert table.loc["exact", "lenses"] == 9  # 4 × 4 lenses in 40 µm, 3 × 3 whole ones
    assert table.loc["exact", "peak_height_true_um"] == pytest.approx(sag, abs=0.01)
    assert table.loc["exact", ["height_rmse_um", "peak_error_um"]].tolist() == pytest.approx([0, 0], abs=1e-6)
    assert table.loc["offset", "height_rmse_um"] == pytest.approx(0, abs=1e-5)  # piston carries no height
    assert table.loc["flat 90 %", "peak_error_um"] == pytest.approx(-0.1 * sag, rel=0.02)
    assert heights["truth"].max() == pytest.approx(sag, abs=0.01)
