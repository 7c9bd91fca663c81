"""Splits that fit a lab's data: with too few fields of view, each field is split into spatial blocks,
train / val / test kept apart by a guard band, and the held-out blocks scored on their own."""

import numpy as np
import pytest
from scipy import ndimage

from qpi.families import srqpi
from qpi.families.srqpi import plan
from qpi.io import StackError
from qpi.training.patches import NO_SPLIT, SPLITS, block_regions, paired_dataset

BLOCK = {"split": {"val": 0.15, "test": 0.2, "by": "auto", "grid": 3, "guard_lr": None},
         "patches": {"lr_size": 8, "stride": 4, "min_edge": 0.0}}


def test_blocks_are_each_in_one_split_and_train_keeps_a_guard_band_from_val_and_test():
    region, blocks = block_regions((90, 120), val=0.15, test=0.2, seed=[0, 7], grid=3, guard=6)
    parts = [b[0] for b in blocks.values()]
    assert len(blocks) == 9 and parts.count("test") == 2 and parts.count("val") == 1
    for part, y0, y1, x0, x1 in blocks.values():
        inside = region[y0:y1, x0:x1]
        assert set(np.unique(inside)) <= {SPLITS.index(part), NO_SPLIT}
        if part == "test":  # a test block keeps its whole rectangle
            assert (inside == SPLITS.index("test")).all()
    for lower, upper in (("train", "val"), ("train", "test"), ("val", "test")):
        near = ndimage.maximum_filter(region == SPLITS.index(upper), size=2 * 6 + 1)
        assert not (near & (region == SPLITS.index(lower))).any(), f"{lower} within the guard of {upper}"
    assert (region == SPLITS.index("train")).mean() > 0.3  # the guard takes a band, not the blocks


def test_blocks_mostly_outside_a_field_stop_are_in_no_split_and_the_split_is_reproducible():
    valid = np.zeros((90, 90), bool)
    valid[:, :45] = True  # the right half is dark: the right column of blocks is out, the middle one in
    region, blocks = block_regions((90, 90), 0.15, 0.2, seed=[1], grid=3, valid=valid)
    assert sorted(blocks) == ["b00", "b01", "b10", "b11", "b20", "b21"]
    assert (region[:, 60:] == NO_SPLIT).all()
    again, _ = block_regions((90, 90), 0.15, 0.2, seed=[1], grid=3, valid=valid)
    assert np.array_equal(region, again)
    with pytest.raises(ValueError, match="too few to split"):
        block_regions((90, 90), 0.15, 0.2, seed=[1], grid=2, valid=valid)  # two usable blocks


def test_a_region_map_gives_each_split_only_patches_wholly_inside_its_blocks():
    region, _ = block_regions((60, 60), 0.15, 0.2, seed=[3], grid=3, guard=4)
    lr = (region + 2).astype(np.float32)  # each pixel says its split: 1 none, 2 train, 3 val, 4 test
    hr = np.kron(lr, np.ones((2, 2), np.float32)) + np.random.default_rng(0).normal(0, 1, (120, 120)).astype(np.float32)
    arrays, provenance = paired_dataset({"one": (lr, hr)}, {"one": region}, 2, lr_size=8, stride=4, min_edge=0.0)
    for part in SPLITS:
        x = arrays[f"x_{part}"]
        assert len(x) > 0 and (x == SPLITS.index(part) + 2).all(), part
        assert provenance["splits"][part]["fields"] == ["one"]


def test_too_few_stacks_split_by_blocks_and_enough_by_fields():
    few = plan.split(BLOCK, ["a", "b"], seed=0)
    assert few["by"] == "blocks" and few["guard_lr"] == 8 and "too few" in few["why"]
    assert plan.in_split(few, ["a", "b"], "test") == ["a", "b"]
    many = plan.split(BLOCK, [f"s{i}" for i in range(10)], seed=0)
    assert many["by"] == "fields" and sorted(set(many["fields"].values())) == ["test", "train", "val"]
    assert plan.in_split(many, list(many["fields"]), "test") == [s for s, v in many["fields"].items() if v == "test"]
    with pytest.raises(ValueError, match=r"too few.*or split each field into blocks \(srqpi.split.by: auto\)"):
        plan.split({**BLOCK, "split": {**BLOCK["split"], "by": "fields"}}, ["a", "b"], seed=0)
    forced = plan.split({**BLOCK, "split": {**BLOCK["split"], "by": "blocks", "guard_lr": 3}}, ["a"] * 10, seed=0)
    assert forced["by"] == "blocks" and forced["guard_lr"] == 3


def test_the_sheets_split_column_pins_fields_and_the_rest_are_drawn_as_before():
    names = [f"s{i}" for i in range(8)]
    drawn = plan.split(BLOCK, names, seed=0)["fields"]
    assert plan.split(BLOCK, names, seed=0, pinned={})["fields"] == drawn  # no pins: the same draw as ever
    pinned = plan.split(BLOCK, names, seed=0, pinned={"s6": "test", "s0": "val"})["fields"]
    assert pinned["s6"] == "test" and pinned["s0"] == "val"
    assert sorted(pinned.values()) == sorted(drawn.values())  # the pins count towards val and test
    three = plan.split(BLOCK, ["a", "b", "c"], seed=0, pinned={"a": "test", "b": "val", "c": "train"})
    assert three["fields"] == {"a": "test", "b": "val", "c": "train"}  # three pinned fields: by field, not blocks
    with pytest.raises(ValueError, match="too few.*clear the sample sheet's split column"):
        plan.split(BLOCK, ["a", "b"], seed=0, pinned={"a": "test"})  # no val field left to draw
    with pytest.raises(ValueError, match="pins a to a split, but srqpi.split.by is blocks"):
        plan.split({**BLOCK, "split": {**BLOCK["split"], "by": "blocks"}}, ["a", "b"], seed=0, pinned={"a": "test"})


def test_held_out_blocks_are_scored_each_in_its_own_window():
    split = plan.split(BLOCK, ["a"], seed=0)
    rng = np.random.default_rng(0)
    label = rng.normal(0, 1, (96, 96)).astype(np.float32)
    windows = plan.test_windows(split, "a", label, 2)
    region, blocks = plan.regions(split, "a", label, 2)
    assert sorted(windows) == sorted(k for k, b in blocks.items() if b[0] == "test") and region.shape == (48, 48)
    prediction = label.copy()
    rows, _ = srqpi.evaluate_fields(lambda x: prediction, {"a": None}, {"a": {"exact": None, "tie": label}},
                                    windows={"a": windows}, family="srqpi", model="m", seed=0,
                                    train_condition="c", test_condition="c")
    ssim = {r["image"]: r["value"] for r in rows if r["metric"] == "ssim"}
    assert sorted(ssim) == [f"a@{b}" for b in sorted(windows)] and all(v == pytest.approx(1) for v in ssim.values())
    assert plan.test_windows(plan.split(BLOCK, [f"s{i}" for i in range(10)], seed=0), "s0", label, 2) is None


def test_a_field_whose_stop_leaves_too_few_blocks_is_one_sentence_naming_it():
    split = plan.split(BLOCK, ["a"], seed=0)
    label = np.full((96, 96), np.nan, np.float32)
    label[36:60, 36:60] = 0.0  # a small stop: only the middle block lies inside it
    with pytest.raises(StackError, match=r"a: too few of its 3×3 blocks lie inside its field stop.*split.grid"):
        plan.regions(split, "a", label, 2)


def test_the_budget_scales_a_floor_on_the_steps_with_the_epochs():
    from qpi.report.budget import scaled

    assert scaled({"epochs": 4, "min_steps": 100, "lr": 1e-3}, 3) == {"epochs": 12, "min_steps": 300, "lr": 1e-3}
