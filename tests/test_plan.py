"""Planning is library code: what each configuration trains and tests, computed and tested here;
the rule files only wire it (test_pipeline runs the DAG these lists make)."""

from pathlib import Path

import pytest
import yaml

from qpi import despeckle, mcnn, srqpi

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
    assert srqpi.model_train(cfg, "srcnn") == {**cfg["train"], "epochs": 9}
    assert srqpi.architecture(cfg, "srcnn") == {"arch": "srcnn"}
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
    assert mcnn.convergence_runs(cfg) == [f"{m}_s{s}" for m in ("mcnn", "trunk") for s in (0, 1, 2)]
    runs = mcnn.planes_runs(cfg)
    assert runs[:4] == [(c, "mcnn_s0") for c in ("n1", "n2", "n4", "n8")]
    assert [c for c, r in runs if r == "tie"] == [c for c in ("n1", "n2", "n4", "n8") if mcnn.tie_possible(spec[c]["z_um"])]
    assert mcnn.transfer_runs(cfg) == mcnn.convergence_runs(cfg) + ["tie"]  # phase2 is a symmetric pair


def test_despeckle_calibrates_the_npcc_networks_only(demo):
    cfg = demo["despeckle"]
    assert despeckle.calibrated(cfg, ["despecklenet", "idiffnet", "unet"]) == [False, True, False]
