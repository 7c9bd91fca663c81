"""The pipeline end to end on config/smoke.yaml, in a scratch directory, with checks on its numbers."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile")]


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [*SNAKEMAKE, "--directory", str(workdir), "--configfile", str(ROOT / "config" / "smoke.yaml"),
           "--cores", "2", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    return result


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> Path:
    """A finished smoke run (the whole DAG) in a scratch working directory."""
    workdir = tmp_path_factory.mktemp("smoke")
    shutil.copytree(ROOT / "config", workdir / "config")
    snakemake(workdir)
    return workdir


@pytest.mark.slow
def test_smoke_run_produces_every_table_and_figure(smoke):
    for name in ("tie_validation", "srqpi_benchmark", "srqpi_training_curves", "srqpi_defocus", "srqpi_coherence",
                 "srqpi_microlens"):
        png = smoke / "results" / "figures" / f"{name}.png"
        assert png.stat().st_size > 10_000, png
        assert (smoke / "results" / "figures" / f"{name}.pdf").exists()
    assert (smoke / "results" / "tables" / "srqpi_benchmark.md").read_text().count("|") > 20
    for sweep, tests in (("defocus", {"z2", "z4"}), ("coherence", {"S0", "z2"})):  # each sweep its own columns
        table = pd.read_csv(smoke / "results" / "tables" / f"srqpi_{sweep}.csv")
        assert set(table["test_condition"]) == tests and np.isfinite(table["ssim"]).all()


@pytest.mark.slow
def test_smoke_benchmark_has_finite_scores_for_every_method(smoke):
    table = pd.read_csv(smoke / "results" / "tables" / "srqpi_benchmark.csv")
    assert {"method", "ssim", "psnr", "nrmse", "reference"} <= set(table.columns)
    assert set(table["method"]) == {"unet", "srcnn", "tie-fft", "tie-iterative"}
    assert set(table["reference"]) == {"tie", "exact"}
    assert np.isfinite(table[["ssim", "psnr", "nrmse", "mae", "seconds_per_mpx"]].to_numpy()).all()
    assert "lpips" in table  # NaN (noted in the .md) where the AlexNet trunk is not cached
    assert table["ssim"].between(-1, 1).all() and (table["nrmse"] > 0).all()
    # the TIE baselines see real signal: better than a flat guess (SSIM ~ 0)
    tie = table[(table["method"] == "tie-fft") & (table["reference"] == "exact")]
    assert (tie["ssim"] > 0.2).all()


@pytest.mark.slow
def test_smoke_tie_labels_are_close_to_the_exact_phase(smoke):
    accuracy = pd.read_csv(smoke / "results" / "tables" / "tie_accuracy.csv")
    pipeline = accuracy[accuracy["source"] == "pipeline"]
    assert len(pipeline) >= 1 and (pipeline["rmse_rad"] < 0.3).all()
    sweep = accuracy[accuracy["source"] == "sweep"]
    noiseless = sweep[sweep["noise"] == 0]
    assert (noiseless["rmse_rad"] < 0.2).all()
    # each label's own quality, beside its true error: ε̃ from the camera's noise, a boundary uncertainty
    # that bounds the error from above (it is what the data cannot tell, not a measured error)
    quality = pd.read_csv(smoke / "results" / "tables" / "tie_quality.csv")
    assert list(quality["stack"]) == list(pipeline["field"])
    assert ((quality["eps"] > 1e-10) & (quality["eps"] < 1e-7)).all() and (quality["noise"].between(0.005, 0.05)).all()
    assert (quality["boundary_rad"] >= 0.5 * quality["truth_rmse_rad"]).all()


@pytest.mark.slow
def test_smoke_outputs_are_real_tiffs_and_models(smoke):
    with tifffile.TiffFile(smoke / "results" / "raw" / "hela_000.tif") as tif:
        assert tif.is_imagej and tif.series[0].axes == "ZYX" and tif.series[0].dtype == np.uint16
    lr = tifffile.imread(smoke / "results" / "srqpi" / "z2" / "lr" / "hela_000.tif")
    label = tifffile.imread(smoke / "results" / "tie" / "hela_000.tif")
    assert label.shape == (lr.shape[0] * 4, lr.shape[1] * 4)
    curves = pd.read_csv(smoke / "results" / "srqpi" / "z2" / "models" / "unet_s0" / "epochs.csv")
    assert len(curves) == 2 and np.isfinite(curves["val_ssim"]).all()


@pytest.mark.slow
def test_smoke_mcnn_curves_planes_and_transfer_have_finite_scores(smoke):
    tables = smoke / "results" / "tables"
    curves = pd.read_csv(tables / "mcnn_convergence.csv")
    assert set(curves["model"]) == {"mcnn", "trunk"}
    assert curves.groupby("model")["step"].nunique().min() >= 2  # validated every 2 steps: a curve, not a point
    assert np.isfinite(curves["val_mae"]).all() and (curves["val_mae"] > 0).all()
    planes = pd.read_csv(tables / "mcnn_planes.csv")
    phase = planes[(planes["quantity"] == "phase") & (planes["metric"] == "ssim")]
    assert set(phase["planes"]) == {1, 2} and np.isfinite(phase["mean"]).all()
    assert set(phase.loc[phase["planes"] == 1, "method"]) == {"mcnn"}  # TIE needs two planes or more
    assert "tie" in set(phase.loc[phase["planes"] == 2, "method"])
    assert "amplitude" in set(planes["quantity"])  # the n1 condition also predicts the amplitude
    transfer = pd.read_csv(tables / "mcnn_transfer.csv")
    assert set(transfer["test_condition"]) == {"natural", "hela", "microspheres"}
    assert set(transfer["model"]) == {"mcnn", "trunk", "tie"}
    assert np.isfinite(transfer["value"]).all()
    assert transfer.loc[transfer["metric"] == "ssim", "value"].between(-1, 1).all()
    for name in ("mcnn_convergence", "mcnn_planes"):
        assert (smoke / "results" / "figures" / f"{name}.png").stat().st_size > 10_000


@pytest.mark.slow
def test_smoke_despeckle_scores_every_model_level_and_diffuser(smoke):
    tables, figures = smoke / "results" / "tables", smoke / "results" / "figures"
    for name in ("despeckle_correlation", "despeckle_diversity", "despeckle_examples"):
        assert (figures / f"{name}.png").stat().st_size > 10_000, name
    table = pd.read_csv(tables / "despeckle_correlation.csv")
    assert set(table["model"]) == {"despecklenet", "twin", "unet", "idiffnet"}
    assert len(table) == 4 * table["level"].nunique() and table["level"].nunique() == 2
    ssim = table.filter(like="ssim_").to_numpy()
    assert np.isfinite(ssim).all() and (np.abs(ssim) <= 1).all()
    assert (table.filter(like="nrmse_") > 0).all().all() and "lpips_intensity" in table
    per_image = pd.read_csv(tables / "despeckle_per_image.csv")
    assert per_image.groupby(["model", "seed", "level", "quantity", "reference", "metric"]).size().eq(4).all()  # 4 test images
    cross = pd.read_csv(tables / "despeckle_cross.csv")
    assert set(cross["family"]) == {"despeckle"}
    tests = ("l1", "l2", "tissue")  # tape at the example level is l2's acquisition, so is sets2's
    # the sweep's networks train pooled over the levels; l2 (= sets2, tape) trains DespeckleNet alone
    for model, trains in (("despecklenet", ("pooled", "l2", "sets4", "tissue")), ("unet", ("pooled",))):
        rows = cross[cross["model"] == model]
        assert set(zip(rows["train_condition"], rows["test_condition"])) == {(a, b) for a in trains for b in tests}
    scores = cross[cross["metric"].str.startswith("ssim")]["value"]
    assert np.isfinite(scores).all() and scores.between(-1, 1).all()


@pytest.mark.slow
def test_smoke_contrans_table_has_finite_scores_beside_the_papers(smoke):
    table = pd.read_csv(smoke / "results" / "tables" / "contrans_objectives.csv")
    assert set(table["specimen"]) == {"microspheres", "hela"}
    assert table["objective"].tolist() == ["4x", "10x", "20x"] * 2
    assert np.isfinite(table[["ssim", "psnr", "ssim_exact", "paper_ssim", "paper_psnr"]].to_numpy()).all()
    assert table["ssim"].between(-1, 1).all() and table["psnr"].between(0, 60).all()
    assert (table["n_images"] >= 1).all() and table["paper_ssim"].between(0.89, 0.98).all()
    assert (smoke / "results" / "tables" / "contrans_objectives.md").read_text().count("±") >= 24
    cross = pd.read_csv(smoke / "results" / "tables" / "contrans_cross_na.csv")
    # every specimen × training objective × test objective, one row per seed (smoke: one seed each)
    assert len(cross) == 2 * 3 * 3 and set(cross["seed"]) == {0}
    assert not cross.duplicated(["specimen", "train_objective", "test_objective"]).any()
    assert np.isfinite(cross[["ssim", "psnr"]].to_numpy()).all()
    per_image = pd.read_csv(smoke / "results" / "tables" / "contrans_per_image.csv")
    assert set(per_image["model"]) == {"contrans", "cnn", "swin"}
    heights = pd.read_csv(smoke / "results" / "tables" / "psm_heights.csv")
    exact = heights.loc[heights["source"] == "exact", "height_um"]
    assert exact.empty or abs(exact.median() - 3.0) < 0.1  # the detector reads the true spheres right
    for name in ("contrans_compare", "contrans_cross_na", "psm_heights"):
        assert (smoke / "results" / "figures" / f"{name}.png").stat().st_size > 10_000


@pytest.mark.slow
def test_smoke_trust_table_calibrates_every_family(smoke):
    """The trust signs of every family on its own condition and the others (at smoke size the networks are
    barely trained, so only the table's make-up is checked here; the numbers are the demo's, in the README)."""
    trust = pd.read_csv(smoke / "results" / "tables" / "trust.csv").set_index("family")
    assert set(trust.index) == {"srqpi", "mcnn", "despeckle", "contrans"}
    assert (trust["images"] >= 3).all() and trust["tests"].str.contains(",").all()  # own and other conditions
    for column in ("pixel_spearman", "image_spearman_sigma", "within_2_sigma", "ood_auroc"):
        assert trust[column].between(-1, 1).all(), column  # every card now keeps its training inputs' summary
    consistency = trust["image_spearman_consistency"]
    assert consistency.drop("despeckle").between(-1, 1).all() and np.isnan(consistency["despeckle"])  # no forward model
    images = pd.read_csv(smoke / "results" / "srqpi" / "trust" / "images.csv")
    assert (images["sigma"] > 0).all() and (images["consistency"] > 0).all() and images["ood"].notna().all()
    assert (smoke / "results" / "figures" / "trust.png").stat().st_size > 10_000


@pytest.mark.slow
def test_smoke_summary_and_cross_condition_cover_every_family(smoke):
    tables = smoke / "results" / "tables"
    summary = pd.read_csv(tables / "summary.csv")
    assert set(summary["family"]) == {"srqpi", "mcnn", "despeckle", "contrans"}
    assert {("srqpi", "unet"), ("mcnn", "mcnn"), ("despeckle", "despecklenet"), ("contrans", "contrans")} <= set(
        zip(summary["family"], summary["method"]))
    assert np.isfinite(summary["ssim"]).all() and summary["ssim"].between(-1, 1).all()
    assert (summary["seeds"] >= 1).all() and (summary["ssim_seed_std"] >= 0).all()  # one seed: 0
    assert summary["conditions_differ"].all() and summary["difference"].str.contains("smoke scale").all()
    paper = summary.set_index(["family", "method"])["paper_ssim"]
    assert paper[("srqpi", "unet")] == 0.96 and paper[("contrans", "contrans")] == 0.922
    assert (tables / "summary.md").read_text().count("|") > 50
    cross = pd.read_csv(tables / "cross_condition.csv")
    assert list(cross.columns) == ["family", "model", "train_condition", "test_condition", "seed", "metric", "value"]
    objectives = ("4x", "10x", "20x")
    expected = {  # every model × train condition × test condition cell of each family's smoke study
        # every sweep network (defocus z2, z4, adaptive; coherence S0, z2) on every sweep test condition
        ("srqpi", "unet"): {(a, b) for a in ("z2", "z4", "defocus-adaptive", "S0") for b in ("z2", "z4", "S0")},
        ("mcnn", "mcnn"): {("natural", t) for t in ("natural", "hela", "microspheres")},
        ("despeckle", "despecklenet"): {(a, b) for a in ("pooled", "l2", "sets4", "tissue") for b in ("l1", "l2", "tissue")},
        **{("contrans", f"contrans-{s}"): {(a, b) for a in objectives for b in objectives}
           for s in ("microspheres", "hela")},
    }
    ssim = cross[cross["metric"].isin(["ssim", "ssim_phase", "ssim_intensity"])]
    for (family, model), cells in expected.items():
        rows = ssim[(ssim["family"] == family) & (ssim["model"] == model)]
        assert set(zip(rows["train_condition"], rows["test_condition"])) == cells, (family, model)
    assert np.isfinite(ssim["value"]).all() and ssim["value"].between(-1, 1).all()
    scores = cross[~cross["metric"].str.startswith("lpips")]["value"]  # LPIPS may be missing (no AlexNet weights)
    assert np.isfinite(scores).all()
    assert (smoke / "results" / "figures" / "cross_condition.png").stat().st_size > 10_000


@pytest.mark.slow
def test_every_familys_scores_are_rows_of_one_schema(smoke):
    """One scorer, one row shape: every evaluation of every family writes `scores.COLUMNS` (labels of
    the family's own, such as a tile's fov, may stand among them)."""
    from qpi.scoring.scores import COLUMNS, CORRELATION, METRICS, TIMING

    results = smoke / "results"
    paths = sorted(results.glob("*/**/eval/*.csv")) + sorted(results.glob("srqpi/*/cross/*.csv"))
    families = set()
    for path in paths:
        rows = pd.read_csv(path)
        assert list(rows.columns[:5]) == COLUMNS[:5] and list(rows.columns[-4:]) == COLUMNS[-4:], path
        assert set(COLUMNS) <= set(rows.columns) and set(rows["metric"]) <= {*METRICS, CORRELATION, *TIMING}, path
        families |= set(rows["family"])
    assert families == {"srqpi", "mcnn", "despeckle", "contrans"}


@pytest.mark.slow
def test_the_report_holds_every_figure_and_table_with_its_caption(smoke):
    snakemake(smoke, "--report", "report.html")
    report = (smoke / "report.html").read_text()
    figures = sorted((smoke / "results" / "figures").glob("*.png"))
    tables = sorted((smoke / "results" / "tables").glob("*.html"))
    assert len(figures) >= 15 and len(tables) == 10
    for path in [*figures, *tables]:
        assert f'"results/{path.parent.name}/{path.name}"' in report, path.name
    assert report.count('"mime_type": "text/html"') == 10  # tables show inline; a CSV would only download
    assert report.count('"mime_type": "image/png"') == len(figures)
    summary = (smoke / "results" / "tables" / "summary.html").read_text()
    assert summary.count("<tr>") == len(pd.read_csv(smoke / "results" / "tables" / "summary.csv")) + 1
    assert "Full precision: summary.csv." in summary


@pytest.mark.slow
def test_second_run_has_nothing_to_do(smoke):
    result = snakemake(smoke, "-n")
    assert "Nothing to be done" in result.stdout + result.stderr


@pytest.mark.slow
def test_every_trained_network_carries_its_model_card(smoke):
    from qpi.report import cards
    from qpi.training.checkpoints import read_card

    files = {"srqpi": "srqpi/z2/models/unet_s0/best.pt", "mcnn": "mcnn/n2/models/mcnn_s0/best.pt",
             "despeckle": "despeckle/pooled/models/despecklenet_s0/best.pt",
             "contrans": "contrans/hela/10x/models/contrans_s0/generator.pt"}
    for family, path in files.items():
        card = read_card(smoke / "results" / path)
        assert card["family"] == family and card["seed"] == 0 and card["inputs"]["channels"], family
        assert card["arch"] == card["architecture"]["arch"] and len(card["training"]["data_digest"]) == 32
        assert cards.test_metrics(smoke / "results" / path, card), family  # its evaluation, found beside it
    card = read_card(smoke / "results" / files["srqpi"])
    tests = pd.DataFrame(cards.test_metrics(smoke / "results" / files["srqpi"], card)).set_index("reference")
    bench = pd.read_csv(smoke / "results" / "tables" / "srqpi_benchmark.csv")
    bench = bench.query("method == 'unet' and condition == 'z2'").set_index("reference")
    assert tests.loc["exact", "ssim"] == pytest.approx(bench.loc["exact", "ssim"], abs=1e-4)


@pytest.mark.slow
def test_gpu_check_runs_at_smoke_size_and_reads_each_familys_headline(smoke, tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gpu_check

    record = gpu_check.main(["--tiny", "--directory", str(smoke), "--cores", "2", "--out", str(tmp_path / "gpu.json")])
    assert record["mean_ssim"].keys() == {"srqpi", "mcnn", "despeckle", "contrans"}
    assert set(record["mean_ssim"]["contrans"]) == {"contrans", "cnn", "swin"} and record["wall_s"] > 0
    runs = pd.DataFrame(record["runs"])
    assert runs["ssim"].between(-1, 1).all() and (runs["images"] > 0).all() and set(runs["multiplier"]) == {1}
    # the check's numbers are the families' own headline numbers
    tables = smoke / "results" / "tables"
    bench = pd.read_csv(tables / "srqpi_benchmark.csv")
    bench = bench.query("method == 'unet' and reference == 'exact' and condition == 'z2'")
    assert record["mean_ssim"]["srqpi"]["unet"] == pytest.approx(bench["ssim"].mean(), abs=1e-4)
    levels = pd.read_csv(tables / "despeckle_correlation.csv").query("model == 'twin'")
    assert record["mean_ssim"]["despeckle"]["twin"] == pytest.approx(levels["ssim_phase"].mean(), abs=1e-4)


def test_one_figure_builds_only_what_it_needs(tmp_path):
    shutil.copytree(ROOT / "config", tmp_path / "config")
    plan = snakemake(tmp_path, "-n", "results/figures/tie_validation.png").stdout
    assert "tie_validation_figure" in plan and "srqpi_train" not in plan
    plan = snakemake(tmp_path, "-n", "results/figures/srqpi_benchmark.png").stdout
    assert "srqpi_train" in plan and "srqpi_evaluate_tie" in plan
    for unneeded in ("tie_accuracy", "tie_validation_figure", "srqpi_training_curves"):
        assert unneeded not in plan


def test_bad_user_stack_fails_with_one_clear_error_and_no_output(tmp_path):
    shutil.copytree(ROOT / "config", tmp_path / "config")
    (tmp_path / "broken.tif").write_bytes(b"not a tiff at all")
    (tmp_path / "config" / "stacks.tsv").write_text(
        "name\tpath\twavelength_um\tpixel_um\tz_um\nbroken\tbroken.tif\t0.55\t0.16\t-2,0,2\n"
    )
    result = snakemake(tmp_path, "results/ingest/broken.tif", check=False)
    assert result.returncode != 0
    log = (tmp_path / "results" / "logs" / "ingest" / "broken.log").read_text()
    assert "broken.tif" in log and "Traceback" not in log
    assert not (tmp_path / "results" / "ingest" / "broken.tif").exists()


def _predict(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qpi.cli", "predict", *map(str, args)], capture_output=True, text=True)


@pytest.mark.slow
@pytest.mark.parametrize("family", ["srqpi", "mcnn", "despeckle", "contrans"])
def test_qpi_predict_gives_the_numbers_of_the_pipelines_own_evaluation(smoke, tmp_path, family):
    """A smoke model applied by `qpi predict` to an image of its test data, written as a TIFF, gives
    the prediction its evaluation rule stored (the card alone tells predict how to prepare the input)."""
    from qpi import io
    from qpi.training.checkpoints import read_card

    results = smoke / "results"
    given = tmp_path / "input.tif"
    if family == "srqpi":
        model = results / "srqpi/z2/models/unet_s0/best.pt"
        name = np.load(results / "srqpi/z2/eval/unet_s0.npz").files[0]
        inputs = [results / f"srqpi/z2/lr/{name}.tif"]
        expected = {"phase": np.load(results / "srqpi/z2/eval/unet_s0.npz")[name]}
    elif family == "mcnn":  # the one-plane network that also gives the amplitude, from a 5-plane stack
        model = results / "mcnn/n1/models/mcnn_s0/best.pt"
        data = np.load(results / "mcnn/data/natural.npz")
        card = read_card(model)
        io.write_stack(given, io.Stack(data=data["planes"][1], z_um=data["z_um"], wavelength_um=0.55,
                                       pixel_um=card["inputs"]["pixel_um"]), dtype="float32")
        inputs = [given]
        stored = np.load(results / "mcnn/n1/eval/mcnn_s0.npz")["natural"][1]
        expected = {"phase": stored[0], "amplitude": stored[1]}
    elif family == "despeckle":
        model = results / "despeckle/pooled/models/despecklenet_s0/best.pt"
        from qpi.families.despeckle import prediction_key

        io.write_image(given, np.load(results / "despeckle/l2/speckle/test.npz")["speckle"][2, 0],
                       pixel_um=read_card(model)["inputs"]["pixel_um"])
        inputs = [given]
        stored = np.load(results / "despeckle/pooled/eval/s0.npz")[prediction_key("despecklenet", "l2")][2]
        expected = {"intensity": (stored[0] + 1) / 2, "phase": stored[1]}
    else:
        model = results / "contrans/hela/10x/models/contrans_s0/generator.pt"
        card = read_card(model)
        io.write_image(given, np.load(results / "contrans/data/hela/test.npz")["lr_10x"][0, 0],
                       pixel_um=card["inputs"]["pixel_um"])
        inputs = [given]
        expected = {"phase": np.load(results / "contrans/hela/10x/eval/contrans_s0.npz")["10x"][0, 0]}
    out = _predict("--model", model, *inputs, "-o", tmp_path / "out.tif", "--normalise", "none", "--device", "cpu")
    assert out.returncode == 0, out.stderr
    images, meta = io.read_channels(tmp_path / "out.tif")  # the outputs, then the consistency residual's page
    assert meta["channels"] == list(expected) + ["consistency residual"] * (family != "despeckle")
    assert ("consistency" in meta) == (family != "despeckle") and meta["ood"] >= 0  # DespeckleNet: no forward model
    assert family != "despeckle" or "diffuser" in meta["consistency_note"]
    for quantity, value in expected.items():
        np.testing.assert_allclose(images[quantity], np.squeeze(value), atol=2e-5, err_msg=quantity)
