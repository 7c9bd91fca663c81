"""Planning is library code: what each configuration trains and tests, computed and tested here;
the rule files only wire it (test_pipeline runs the DAG these lists make)."""

from pathlib import Path

import pytest
import yaml

from qpi.core import plan
from qpi.families import despeckle, mcnn, srqpi
from qpi.report import budget

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo():
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def srqpi_cfg(**sweeps):
    base = {"defocus": {"conditions": ["z2", "z4"], "adaptive": True},
            "coherence": {"conditions": ["S0", "z2"], "adaptive": False}, "model": "unet", "seeds": [0],
            "train": {}}
    return {"models": {"unet": {"arch": "srqpi_unet", "width": 4}, "srcnn": {"arch": "srcnn", "train": {"epochs": 9}}},
            "seeds": [0, 1], "baselines": ["fft", "iterative"],
            "train": {"epochs": 2, "lr": 1e-3, "lr_schedule": {"name": "step", "step_size": 5}},
            "conditions": {"z2": {"defocus_um": 2}, "z4": {"defocus_um": 4}, "S0": {"defocus_um": 2, "coherence": 0.0}},
            "sweeps": {**base, **sweeps}}


def test_srqpi_methods_are_every_network_and_seed_then_the_tie_baselines():
    assert srqpi.methods(srqpi_cfg()) == ["unet_s0", "unet_s1", "srcnn_s0", "srcnn_s1", "tie-fft", "tie-iterative"]


def test_srqpi_training_merges_overrides_one_level_deep():
    cfg = srqpi_cfg(train={"lr_schedule": {"step_size": 2}})
    assert plan.model_train(cfg, "srcnn") == {**cfg["train"], "epochs": 9}
    assert plan.architecture(cfg, "srcnn") == {"arch": "srcnn"}
    assert srqpi.sweep_train(cfg)["lr_schedule"] == {"name": "step", "step_size": 2}
    assert "/sweep/" in srqpi.sweep_model(cfg) and "/models/" in srqpi.sweep_model(srqpi_cfg())  # equal training: reused


def test_srqpi_sweeps_list_their_networks_and_tests():
    cfg = srqpi_cfg()
    assert srqpi.adaptive(cfg) == {"defocus-adaptive": ["z2", "z4"]}
    assert srqpi.sweep_networks(cfg, "defocus") == ["z2", "z4", "defocus-adaptive"]
    assert srqpi.sweep_networks(cfg, "coherence") == ["S0", "z2"]
    assert srqpi.sweep_tests(cfg) == ["z2", "z4", "S0"]  # each once, in order


def test_srqpi_conditions_at_their_own_coherence_are_reimaged():
    cfg = srqpi_cfg()
    assert srqpi.microscope_overrides(cfg, "S0") == {"coherence": 0.0} and srqpi.microscope_overrides(cfg, "z2") == {}
    assert srqpi.condition_reimaged(cfg, "S0", 0.3) and not srqpi.condition_reimaged(cfg, "z2", 0.3)
    assert not srqpi.condition_reimaged(cfg, "defocus-adaptive", 0.3)  # not a configured condition


def test_mcnn_runs_of_the_demo(demo):
    cfg = demo["mcnn"]
    spec = mcnn.conditions(cfg)
    assert spec["phase2"] == {"z_um": [-2.0, 2.0], "amplitude": False} and len(spec["n8"]["z_um"]) == 8
    assert mcnn.convergence_runs(cfg) == [f"{m}_s{s}" for m in ("mcnn", "trunk") for s in (0, 1)]
    runs = mcnn.planes_runs(cfg)
    assert runs[:3] == [(c, "mcnn_s0") for c in ("n1", "n2", "n8")]
    assert [c for c, r in runs if r == "tie"] == [c for c in ("n1", "n2", "n8") if mcnn.tie_possible(spec[c]["z_um"])]
    assert mcnn.transfer_runs(cfg) == mcnn.convergence_runs(cfg) + ["tie"]  # phase2 is a symmetric pair


def test_despeckle_calibrates_the_npcc_networks_only(demo):
    cfg = demo["despeckle"]
    assert despeckle.calibrated(cfg, ["despecklenet", "idiffnet", "unet"]) == [False, True, False]


def test_budget_adds_each_model_at_each_multiplier_with_its_schedule_scaled(demo):
    cfg = {"budget": {"multipliers": [1, 3], "seeds": [0, 2], "families": {"srqpi": ["srcnn"], "contrans": ["cnn"]}},
           "srqpi": {**srqpi_cfg(), "train_condition": ["z2"]}, "contrans": demo["contrans"]}
    budget.expand(cfg)
    assert cfg["srqpi"]["models"]["srcnnx3"] == {"arch": "srcnn", "train": {**cfg["srqpi"]["train"], "epochs": 27,
                                                 "lr_schedule": {"name": "step", "step_size": 15}}}
    cnn = plan.model_train(cfg["contrans"], "cnnx3")
    assert (cnn["epochs"], cnn["lr_schedule"]["constant_epochs"]) == (72, 36)  # the linear decay keeps its shape
    assert plan.architecture(cfg["contrans"], "cnnx3") == demo["contrans"]["models"]["cnn"]
    runs = budget.runs(cfg)
    assert [(r["key"], r["seed"], r["epochs"]) for r in runs] == [
        ("srcnn", 0, 9), ("srcnn", 2, 9), ("srcnnx3", 0, 27), ("srcnnx3", 2, 27),
        ("cnn", 0, 24), ("cnn", 2, 24), ("cnnx3", 0, 72), ("cnnx3", 2, 72)]
    assert runs[0]["files"] == ["results/srqpi/z2/eval/srcnn_s0.csv"]
    assert runs[-1]["files"] == ["results/contrans/hela/10x/eval/cnnx3_s2.csv"]


def test_budget_names_an_unknown_model_and_its_family():
    cfg = {"budget": {"multipliers": [1], "seeds": [0], "families": {"srqpi": ["vdsr"]}}, "srqpi": srqpi_cfg()}
    with pytest.raises(ValueError, match=r"budget.families.srqpi names \['vdsr'\], not in srqpi.models \(unet, srcnn\)"):
        budget.expand(cfg)


def test_budget_scores_read_each_runs_headline_rows_only():
    import pandas as pd

    def rows(model, quantity, reference, test, value):
        return {"family": "despeckle", "model": model, "seed": 0, "train_condition": "pooled", "test_condition": test,
                "image": 0, "quantity": quantity, "reference": reference, "metric": "ssim", "value": value}

    frame = pd.DataFrame([rows("twin", "phase", "tie", "l1", 0.5), rows("twin", "phase", "tie", "l2", 0.3),
                          {**rows("twin", "phase", "tie", "l2", 0.9), "train_condition": "l2"},
                          rows("twin", "phase", "exact", "l1", 0.9), rows("twin", "intensity", "intensity", "l1", 0.9),
                          rows("twin", "phase", "tie", "tape", 0.9), rows("unet", "phase", "tie", "l1", 0.9)])
    run = {"family": "despeckle", "model": "twin", "multiplier": 1, "seed": 0, "key": "twin", "epochs": 8,
           "files": ["a.csv"], "pairs": [["pooled", "l1"], ["pooled", "l2"]], "reference": "tie"}
    table = budget.scores([run], read=lambda f: frame)
    assert table.to_dict("records") == [{"family": "despeckle", "model": "twin", "multiplier": 1, "seed": 0,
                                         "epochs": 8, "ssim": 0.4, "images": 2}]
    with pytest.raises(ValueError, match="no phase SSIM of twin seed 1 for"):
        budget.scores([{**run, "seed": 1}], read=lambda f: frame)


def test_budget_scores_despeckle_levels_by_the_networks_the_sweep_scores(demo):
    for mode, trained in (("pooled", ["pooled"] * 3), ("each", ["l1", "l2", "l3"])):
        cfg = {"budget": {"multipliers": [1], "seeds": [0], "families": {"despeckle": ["twin"]}},
               "despeckle": {**demo["despeckle"], "levels_training": mode}}
        (run,) = budget.runs(cfg)
        assert run["pairs"] == [[t, f"l{i + 1}"] for i, t in enumerate(trained)]
        assert run["files"] == [f"results/despeckle/{t}/eval/s0.csv" for t in dict.fromkeys(trained)]
