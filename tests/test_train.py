"""Device choice, batch plans, augmentation, and the supervised trainer's logs, files and resume."""

import csv
import logging

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from toys import sr_pairs, train_config

from qpi.core import device
from qpi.training import checkpoints, optim, supervised
from qpi.training.batches import dihedral, epoch_plan
from qpi.training.config import TrainConfig

MODEL = {"width": 4, "depth": 2}  # tiny U-Net: 8×8 LR → 32×32 HR


@pytest.fixture(autouse=True)
def _restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


# --- device ---------------------------------------------------------------------------------


def test_auto_device_follows_cuda_availability(monkeypatch, caplog):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with caplog.at_level(logging.INFO, logger="qpi"):
        assert device.select_device("auto") == torch.device("cpu")
    assert "cpu" in caplog.text
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device.select_device("auto").type == "cuda"


def test_requesting_cuda_without_it_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(device.DeviceError, match="CUDA is not available.*'auto' or 'cpu'"):
        device.select_device("cuda:0")
    assert device.select_device("cpu") == torch.device("cpu")


def test_set_threads_limits_torch_and_none_keeps_it():
    device.set_threads(1)
    assert torch.get_num_threads() == 1
    device.set_threads(None)
    assert torch.get_num_threads() == 1
    with pytest.raises(ValueError):
        device.set_threads(0)


# --- batches and augmentation ---------------------------------------------------------------


def test_batch_plan_depends_only_on_seed_and_epoch():
    batches, ops = epoch_plan(10, 4, seed=3, epoch=2)
    again, ops_again = epoch_plan(10, 4, seed=3, epoch=2)
    assert [b.tolist() for b in batches] == [b.tolist() for b in again] and ops.tolist() == ops_again.tolist()
    assert len(batches) == 2 and all(len(b) == 4 for b in batches)
    assert len(set(np.concatenate(batches).tolist())) == 8  # no sample twice in an epoch
    other, _ = epoch_plan(10, 4, seed=3, epoch=3)
    assert [b.tolist() for b in other] != [b.tolist() for b in batches]
    small, _ = epoch_plan(3, 8, seed=0, epoch=0)
    assert sorted(small[0].tolist()) == [0, 1, 2]


def test_dihedral_ops_are_the_eight_symmetries_and_commute_with_upsampling():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    images = {tuple(dihedral(x, op).flatten().tolist()) for op in range(8)}
    assert len(images) == 8
    assert torch.equal(dihedral(x, 0), x)
    up = F.interpolate(x, scale_factor=4, mode="nearest")
    for op in range(8):  # the same op on LR input and HR target keeps them paired
        assert torch.equal(dihedral(up, op), F.interpolate(dihedral(x, op), scale_factor=4))


# --- trainer --------------------------------------------------------------------------------




def _fit(out, train_set=None, model=MODEL, **cfg):
    """Train the tiny U-Net on 8 samples (2 steps per epoch), validating on 2."""
    train_set = sr_pairs(8, 0) if train_set is None else train_set
    return supervised.train_supervised("srqpi_unet", model, train_set, sr_pairs(2, 1), train_config(**cfg), out)


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_trainer_logs_every_step_and_epoch_and_keeps_the_best_model(tmp_path):
    summary = _fit(tmp_path, epochs=3)
    steps, epochs = _rows(tmp_path / "steps.csv"), _rows(tmp_path / "epochs.csv")
    assert [int(r["step"]) for r in steps] == list(range(1, 7))  # 8 samples / batch 4 × 3 epochs
    assert [int(r["epoch"]) for r in epochs] == [1, 2, 3]
    assert all(float(r["lr"]) == 1e-2 and float(r["seconds"]) > 0 for r in steps)
    val_losses = [float(r["val_loss"]) for r in epochs]
    assert summary["steps"] == 6 and summary["best"]["val_loss"] == pytest.approx(min(val_losses))
    assert all(-1 <= float(r["val_ssim"]) <= 1 and np.isfinite(float(r["val_psnr"])) for r in epochs)

    best = torch.load(tmp_path / "best.pt", weights_only=True)
    assert best["model"] == "srqpi_unet" and best["kwargs"]["width"] == 4
    assert best["meta"]["val_loss"] == pytest.approx(min(val_losses))
    model = checkpoints.load_model(tmp_path / "best.pt")
    assert not model.training
    x, _ = sr_pairs(2, 1)
    assert model(torch.from_numpy(x)).shape == (2, 1, 32, 32)


def _final_weights(path):
    return torch.load(path / "last.pt", weights_only=True)["state_dict"]


def test_resumed_training_ends_with_the_same_weights_as_an_uninterrupted_run(tmp_path):
    schedule = {"name": "step", "step_size": 1, "gamma": 0.5}
    _fit(tmp_path / "split", epochs=2, lr_schedule=schedule)
    with open(tmp_path / "split" / "steps.csv", "a") as f:
        f.write("5,3,0.1,0.01,0.01\n")  # a row logged after the last checkpoint of an interrupted run
    summary = _fit(tmp_path / "split", epochs=4, lr_schedule=schedule)
    _fit(tmp_path / "whole", epochs=4, lr_schedule=schedule)

    assert summary["resumed"] and summary["steps"] == 8
    split, whole = _final_weights(tmp_path / "split"), _final_weights(tmp_path / "whole")
    assert split.keys() == whole.keys()
    assert all(torch.equal(split[k], whole[k]) for k in whole)
    # The logs continue without repeats or the stray row, and match the uninterrupted run's.
    logged_columns = {"steps.csv": ("step", "epoch", "loss", "lr"), "epochs.csv": ("step", "val_loss")}
    for name, columns in logged_columns.items():
        logged = [[r[c] for c in columns] for r in _rows(tmp_path / "split" / name)]
        assert logged == [[r[c] for c in columns] for r in _rows(tmp_path / "whole" / name)]


def test_a_run_stopped_mid_epoch_by_max_steps_resumes_where_it_stopped(tmp_path):
    stopped = _fit(tmp_path / "split", epochs=3, max_steps=3)
    assert stopped["steps"] == 3 and stopped["epochs"] == 1
    _fit(tmp_path / "split", epochs=3)
    _fit(tmp_path / "whole", epochs=3)
    split, whole = _final_weights(tmp_path / "split"), _final_weights(tmp_path / "whole")
    assert all(torch.equal(split[k], whole[k]) for k in whole)
    assert [int(r["step"]) for r in _rows(tmp_path / "split" / "steps.csv")] == list(range(1, 7))


def test_a_checkpoint_of_another_architecture_or_other_data_is_not_resumed(tmp_path):
    """A re-run after a config or dataset change starts afresh instead of continuing a stale run."""
    _fit(tmp_path, sr_pairs(4, 0), epochs=1)
    wider = _fit(tmp_path, sr_pairs(4, 0), model={**MODEL, "width": 8}, epochs=1)
    assert not wider["resumed"] and wider["steps"] == 1
    other_data = _fit(tmp_path, sr_pairs(4, 5), model={**MODEL, "width": 8}, epochs=2)
    assert not other_data["resumed"] and other_data["steps"] == 2
    same = _fit(tmp_path, sr_pairs(4, 5), model={**MODEL, "width": 8}, epochs=3)
    assert same["resumed"] and same["steps"] == 3


def test_a_checkpoint_of_other_training_settings_is_not_resumed_nor_returned(tmp_path, caplog):
    """Snakemake re-runs a job whose params changed; continuing (or, when it had finished, returning)
    the old run would hand back a model of the old settings under the new ones."""
    finished = _fit(tmp_path, epochs=2)
    with caplog.at_level(logging.WARNING, logger="qpi.training.checkpoints"):
        other_lr = _fit(tmp_path, epochs=2, lr=3e-3)
    assert not other_lr["resumed"] and other_lr["steps"] == finished["steps"] == 4
    assert any("other training settings (lr)" in r.getMessage() for r in caplog.records)
    shorter = _fit(tmp_path, epochs=1, lr=3e-3)
    assert not shorter["resumed"] and shorter["steps"] == 2
    threads = _fit(tmp_path, epochs=1, lr=3e-3, threads=2, checkpoint_every=2)  # where it runs: no change
    assert threads["resumed"]


@pytest.mark.parametrize("schedule, continued", [(None, True), ({"name": "step", "step_size": 1}, True),
                                                 ({"name": "cosine"}, False),
                                                 ({"name": "linear", "constant_epochs": 1}, False)])
def test_a_longer_run_continues_a_shorter_one_only_where_the_schedule_does_not_span_the_run(
        tmp_path, schedule, continued):
    _fit(tmp_path, epochs=2, lr_schedule=schedule)
    longer = _fit(tmp_path, epochs=3, lr_schedule=schedule)
    assert longer["resumed"] is continued and longer["steps"] == 6


@pytest.mark.parametrize("damage", ["truncated", "empty", "not_a_checkpoint"])
def test_an_unreadable_checkpoint_is_moved_aside_and_training_starts_afresh(tmp_path, caplog, damage):
    _fit(tmp_path, epochs=1)
    last = tmp_path / "last.pt"
    if damage == "truncated":  # a copy cut off by a node crash
        last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])
    elif damage == "empty":  # a full disk
        last.write_bytes(b"")
    else:
        torch.save({"weights": torch.zeros(2)}, last)
    with caplog.at_level(logging.WARNING, logger="qpi.training.checkpoints"):
        summary = _fit(tmp_path, epochs=2)
    assert not summary["resumed"] and summary["steps"] == 4  # both epochs: 2 steps each
    assert (tmp_path / "last.pt.corrupt").exists() and checkpoints.read_checkpoint(last) is not None
    (line,) = [r.getMessage() for r in caplog.records if "cannot be read" in r.getMessage()]
    assert "moved aside to last.pt.corrupt" in line and "\n" not in line


def test_config_from_a_mapping_names_unknown_settings():
    assert TrainConfig.from_dict({"epochs": 3, "betas": [0.5, 0.999]}).betas == (0.5, 0.999)
    with pytest.raises(ValueError, match="'epoch'"):
        TrainConfig.from_dict({"epoch": 3})



def test_validation_every_n_steps_gives_a_convergence_curve(tmp_path):
    _fit(tmp_path, epochs=3, val_every_steps=1)
    steps = [int(r["step"]) for r in _rows(tmp_path / "epochs.csv")]
    assert steps == [1, 2, 3, 4, 5, 6]  # every step once, epoch ends included


def test_cosine_schedule_spans_the_run_unless_its_length_is_given():
    params = [torch.nn.Parameter(torch.zeros(1))]
    for spec, t_max in (({"name": "cosine"}, 6), ({"name": "cosine", "epochs": 20}, 20)):
        cfg = TrainConfig(epochs=6, lr_schedule=spec)
        scheduler = optim.make_scheduler(optim.make_optimizer(params, cfg), cfg)
        assert scheduler.T_max == t_max


# --- training that fits the data -------------------------------------------------------------


def test_min_steps_raises_the_epochs_of_a_small_set_and_scales_the_schedule_alike():
    cfg = TrainConfig(epochs=2, min_steps=10, lr_schedule={"name": "step", "step_size": 1, "gamma": 0.5})
    fitted = cfg.fitted(per_epoch=3)  # 2 epochs × 3 steps < 10: 4 epochs
    assert fitted.epochs == 4 and fitted.lr_schedule == {"name": "step", "step_size": 2, "gamma": 0.5}
    assert cfg.fitted(per_epoch=5) is cfg and TrainConfig(epochs=2).fitted(per_epoch=1) == TrainConfig(epochs=2)


def test_a_small_training_set_trains_min_steps(tmp_path):
    summary = _fit(tmp_path, epochs=1, min_steps=7)  # 2 steps per epoch: 4 epochs
    assert summary["steps"] == 8 and [int(r["epoch"]) for r in _rows(tmp_path / "epochs.csv")] == [1, 2, 3, 4]


def test_patience_stops_a_stalled_run_keeps_its_best_and_a_rerun_trains_no_further(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="qpi.training.loop"):
        summary = _fit(tmp_path, epochs=8, lr=0.0, patience=3)  # lr 0: the first validation stays the best
    assert summary["epochs"] == 4 and summary["best"]["epoch"] == 1
    assert "early stop at epoch 4: no lower validation loss for 3 epochs" in caplog.text
    assert "never improved after the first validation" in caplog.text
    again = _fit(tmp_path, epochs=8, lr=0.0, patience=3)
    assert again["resumed"] and again["steps"] == summary["steps"]


def test_patience_is_judged_at_validations_only(tmp_path):
    """Validating every 3rd epoch with patience 2: no stop before the first validation, and the stop at
    the first validation that finds 2 or more epochs since the best (epoch 6, best at 3)."""
    summary = _fit(tmp_path, epochs=12, lr=0.0, patience=2, val_every=3)
    assert summary["epochs"] == 6 and summary["best"]["epoch"] == 3
    assert [int(r["epoch"]) for r in _rows(tmp_path / "epochs.csv")] == [3, 6]


def test_min_steps_stretches_a_cosine_given_its_own_span():
    cfg = TrainConfig(epochs=10, min_steps=100, lr_schedule={"name": "cosine", "epochs": 10, "min_lr": 1e-5})
    assert cfg.fitted(per_epoch=5).lr_schedule == {"name": "cosine", "epochs": 20, "min_lr": 1e-5}


@pytest.mark.parametrize("val_loss, improving", [
    ([1.0, 0.8, 0.6, 0.5, 0.4, 0.3], True),    # still falling
    ([1.0, 0.5, 0.4, 0.4, 0.401, 0.399], False),  # flat at the end
    ([1.0, 0.9, 0.8], False),                # too few validations to tell
    ([-0.2, -0.5, -0.7, -0.9], True),        # a negative loss (NPCC) falling
])
def test_still_improving_reads_the_end_of_the_validation_curve(val_loss, improving):
    from qpi.training.curves import still_improving

    assert still_improving(val_loss) is improving


def test_a_run_ended_while_validation_still_fell_warns(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="qpi.training.loop"):
        _fit(tmp_path, epochs=6)  # val loss 0.35 → 0.19, falling fastest at the end
    assert "still falling when training ended" in caplog.text
