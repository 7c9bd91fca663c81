"""Across families: the summary beside the papers and the combined cross-condition table, on tiny hand-made tables."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from qpi import families
from qpi.families import contrans
from qpi.families.mcnn.family import in_distribution_set
from qpi.report import plots, summary, tables
from qpi.scoring import scores


def tidy(family, model, train, test, seed, metric, value):
    return dict(family=family, model=model, train_condition=train, test_condition=test, seed=seed, metric=metric,
                value=value)


@pytest.fixture
def despeckle_cross():
    rows = [tidy("despeckle", "despecklenet", a, b, s, m, v)
            for a in ("tape", "tissue") for b in ("tape", "tissue") for s in (0, 1)
            for m, v in (("ssim_phase", 0.5 + 0.1 * s + (0.3 if a == b else 0.0)), ("nrmse_phase", 0.2))]
    return pd.DataFrame(rows)


@pytest.fixture
def contrans_cross_na():
    return pd.DataFrame({"specimen": ["hela", "hela", "hela", "hela"], "train_objective": ["4x", "4x", "10x", "10x"],
                         "test_objective": ["4x", "10x", "4x", "10x"], "seed": 3, "ssim": [0.9, 0.8, 0.7, 0.95],
                         "psnr": [30.0, 28.0, 25.0, 33.0]})


def test_contrans_cross_table_becomes_tidy_with_the_specimen_in_the_model(contrans_cross_na):
    out = contrans.cross_condition(contrans_cross_na)
    assert list(out.columns) == scores.CROSS_COLUMNS and len(out) == 8
    cell = out[(out["train_condition"] == "10x") & (out["test_condition"] == "4x") & (out["metric"] == "psnr")]
    assert cell["value"].tolist() == [25.0] and cell["model"].tolist() == ["contrans-hela"]
    assert set(out["seed"]) == {3} and set(out["family"]) == {"contrans"}


def test_cross_condition_concatenates_families_and_names_a_missing_column(despeckle_cross, contrans_cross_na):
    mcnn = pd.DataFrame([tidy("mcnn", "mcnn", "natural", t, 0, "ssim", 0.6) for t in ("natural", "hela")])
    out = summary.cross_condition([mcnn, despeckle_cross, contrans.cross_condition(contrans_cross_na)])
    assert len(out) == 2 + len(despeckle_cross) + 8
    assert list(out.columns) == scores.CROSS_COLUMNS
    assert set(out["family"]) == {"mcnn", "despeckle", "contrans"} and out["seed"].dtype.kind == "i"
    with pytest.raises(ValueError, match=r"\['despeckle'\].*\['seed'\]"):
        summary.cross_condition([mcnn, despeckle_cross.drop(columns="seed")])


def test_cross_grids_average_seeds_and_pick_each_familys_ssim(despeckle_cross, contrans_cross_na):
    table = summary.cross_condition([despeckle_cross, contrans.cross_condition(contrans_cross_na)])
    grids = summary.cross_grids(table)
    assert set(grids) == {("despeckle", "despecklenet", "ssim_phase"), ("contrans", "contrans-hela", "ssim")}
    speckle = grids[("despeckle", "despecklenet", "ssim_phase")]
    assert speckle.loc["tape", "tape"] == pytest.approx(0.85)  # (0.8 + 0.9) / 2 seeds
    assert speckle.loc["tape", "tissue"] == pytest.approx(0.55)
    objectives = grids[("contrans", "contrans-hela", "ssim")]
    assert objectives.index.tolist() == ["4x", "10x"] and objectives.loc["10x", "4x"] == pytest.approx(0.7)
    fig = plots.cross_condition(grids)
    assert sum(ax.get_visible() and ax.get_title() != "" for ax in fig.axes) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="no SSIM"):
        summary.heatmap_metric(["psnr", "mae"])


def test_headlines_read_each_familys_table():
    srqpi_f, mcnn_f, despeckle_f, contrans_f = families.every()[:4]
    benchmark = pd.DataFrame({"reference": ["exact", "exact", "tie", "exact"], "condition": ["z1", "z2", "z1", "z1"],
                              "method": ["unet", "unet", "unet", "tie-fft"], "ssim": [0.9, 0.7, 0.1, 0.5],
                              "psnr": [30.0, 20.0, 5.0, 18.0]})
    srqpi = srqpi_f.headlines({"srqpi_benchmark": benchmark}).set_index("method")
    assert srqpi.loc["unet", "ssim"] == pytest.approx(0.8)  # exact phase only, mean over z1 and z2
    assert "z1, z2" in srqpi.loc["unet", "setting"] and "exact" in srqpi.loc["unet", "setting"]
    replicated = benchmark.assign(seeds=[3, 3, 3, 1], ssim_seed_std=[0.02, 0.04, 0.5, 0.0])
    srqpi = srqpi_f.headlines({"srqpi_benchmark": replicated}).set_index("method")
    assert (srqpi.loc["unet", "seeds"], srqpi.loc["unet", "ssim_seed_std"]) == (3, pytest.approx(0.03))
    transfer = pd.DataFrame([tidy("mcnn", "mcnn", "natural", t, s, m, v)
                             for t in ("natural", "hela") for s, v in ((0, 0.2), (1, 0.4))
                             for m in ("ssim", "mae", "amplitude_ssim")])
    mcnn = mcnn_f.headlines({"mcnn_transfer": transfer}, "natural")
    assert mcnn["ssim"].tolist() == pytest.approx([0.3]) and mcnn["mae"].tolist() == pytest.approx([0.3])
    assert mcnn["seeds"].tolist() == [2] and mcnn["ssim_seed_std"].tolist() == pytest.approx([0.1])
    assert "amplitude_ssim" not in mcnn
    correlation = pd.DataFrame({"model": ["despecklenet"] * 2, "level": ["l1", "l2"], "ssim_phase": [0.6, 0.4],
                                "ssim_intensity": [0.9, 0.9], "nrmse_phase": [0.1, 0.3]})
    speckle = despeckle_f.headlines({"despeckle_correlation": correlation})
    assert speckle.loc[0, "ssim"] == pytest.approx(0.5) and speckle.loc[0, "nrmse"] == pytest.approx(0.2)
    scores = pd.DataFrame({"model": "despecklenet", "seed": [0, 0, 1, 1], "quantity": "phase", "reference": "tie",
                           "metric": "ssim", "value": [0.6, 0.4, 0.8, 0.6]})
    speckle = despeckle_f.headlines({"despeckle_correlation": correlation,
                                    "despeckle_per_image": pd.concat([scores, scores.assign(quantity="intensity")])})
    assert (speckle.loc[0, "seeds"], speckle.loc[0, "ssim_seed_std"]) == (2, pytest.approx(0.1))
    per_image = pd.DataFrame({"specimen": ["hela"] * 3 + ["microspheres"], "reference": ["tie", "tie", "exact", "tie"],
                              "train_objective": ["10x", "4x", "10x", "10x"], "test_objective": ["10x"] * 4,
                              "model": ["contrans"] * 4, "ssim": [0.8, 0.1, 0.2, 0.3], "psnr": [30.0, 1.0, 2.0, 3.0]})
    contrans = contrans_f.headlines({"contrans_per_image": per_image}, "hela", "10x")
    assert contrans["ssim"].tolist() == [0.8] and contrans["psnr"].tolist() == [30.0]
    assert (contrans.loc[0, "seeds"], contrans.loc[0, "ssim_seed_std"]) == (1, 0.0)  # no seed column: one run


def test_summarise_gives_the_spread_over_images_and_over_seeds():
    per_image = pd.DataFrame({"method": "unet", "seed": [0, 0, 1, 1], "ssim": [0.7, 0.9, 0.5, 0.7]})
    row = scores.summarise(per_image, ["method"]).iloc[0]
    assert (row["ssim"], row["n_images"], row["seeds"]) == (pytest.approx(0.7), 4, 2)
    assert row["ssim_std"] == pytest.approx(np.sqrt(0.02)) and row["ssim_seed_std"] == pytest.approx(0.1)
    assert "seeds" not in scores.summarise(per_image.drop(columns="seed"), ["method"])
    assert scores.summarise(per_image, ["method", "seed"])["ssim"].tolist() == pytest.approx([0.8, 0.6])


def test_summary_puts_the_papers_numbers_beside_ours_and_marks_differences():
    ours = [pd.DataFrame({"family": ["srqpi", "srqpi"], "method": ["unet", "tie-fft"], "setting": "s",
                          "ssim": [0.9, 0.6]}),
            pd.DataFrame({"family": ["contrans"], "method": ["contrans"], "setting": "s", "ssim": [0.5],
                          "psnr": [20.0]})]
    papers = {"contrans": families.get("contrans").paper({"contrans": {"baselines": {"specimen": "hela",
                                                                                    "objective": "10x"}}})}
    demo = summary.summary_table(ours, "demo", papers)
    assert list(demo.columns) == summary.SUMMARY_COLUMNS
    demo = demo.set_index("method")
    assert demo.loc["unet", "paper_ssim"] == 0.96 and np.isnan(demo.loc["tie-fft", "paper_ssim"])
    assert (demo.loc["contrans", "paper_ssim"], demo.loc["contrans", "paper_psnr"]) == (0.922, 32.171)
    assert demo["conditions_differ"].all() and demo["difference"].str.contains("demo scale").all()
    paper = summary.summary_table(ours, "paper", papers).set_index("method")
    assert not paper.loc["unet", "conditions_differ"]  # simulated, as the paper's 0.96
    assert paper.loc["contrans", "conditions_differ"] and "experimental" in paper.loc["contrans", "difference"]


def test_mcnn_headline_set_is_the_test_set_like_the_training_data():
    datasets = {"train": {"kind": "natural"}, "val": {"kind": "natural"}, "hela": {"kind": "hela"},
                "pictures": {"kind": "natural"}}
    assert in_distribution_set(datasets, ["hela", "pictures"]) == "pictures"
    with pytest.raises(ValueError, match="no set of the training kind"):
        in_distribution_set(datasets, ["hela"])


def test_html_table_rounds_marks_missing_values_and_escapes_notes(tmp_path):
    df = pd.DataFrame({"method": ["a<b>", "c"], "ssim": [0.12345, np.nan], "seeds": [3, 1], "differ": [True, False]})
    tables.write_table(df, tmp_path / "t.csv", notes=["x < y & z", "see `cfg`"], html_path=tmp_path / "t.html")
    page = (tmp_path / "t.html").read_text()
    assert "<td class='n'>0.123</td>" in page and "<td class='n'>–</td>" in page and "<td class='n'>3</td>" in page
    assert "<td>True</td>" in page and page.count("<tr>") == 3
    assert "a&lt;b&gt;" in page and "x &lt; y &amp; z" in page and "Full precision: t.csv." in page
    assert "see <code>cfg</code>" in page
    assert pd.read_csv(tmp_path / "t.csv")["ssim"][0] == 0.12345  # the CSV keeps full precision
