"""One scorer and one score-row schema for every family."""

import numpy as np
import pandas as pd
import pytest

from qpi.scoring import scores

LABELS = dict(family="f", model="m", seed=0, train_condition="a", test_condition="b")


def test_image_rows_carry_the_schema_and_remove_the_piston_of_phases_only():
    truth = np.random.default_rng(0).random((24, 24))
    rows = scores.image_rows(truth + 3.0, truth, quantity="phase", reference="exact", **LABELS, image=7)
    assert [list(r) for r in rows] == [scores.COLUMNS] * len(scores.METRICS)
    by_metric = {r["metric"]: r["value"] for r in rows}
    assert by_metric["ssim"] == pytest.approx(1.0) and by_metric["mae"] == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(by_metric["lpips"])  # no Lpips given: NaN, never a number from random weights
    intensity = scores.image_rows(truth + 3.0, truth, quantity="intensity", reference="intensity", **LABELS, image=7)
    assert {r["metric"]: r["value"] for r in intensity}["mae"] == pytest.approx(3.0)


def test_a_flat_reference_defines_only_the_mae():
    rows = scores.image_rows(np.ones((8, 8)) * 1.1, np.ones((8, 8)), quantity="amplitude", reference="exact",
                             names=scores.PIXEL_METRICS, **LABELS, image=0)
    assert [r["metric"] for r in rows] == ["mae"] and rows[0]["value"] == pytest.approx(0.1)


def test_a_field_stop_is_scored_inside_it_with_every_metric():
    truth = np.random.default_rng(1).random((32, 32))
    truth[:4] = np.nan  # outside the aperture: a measured TIE label is NaN there
    rows = scores.image_rows(np.nan_to_num(truth), truth, quantity="phase", reference="tie", **LABELS, image=0)
    assert [r["metric"] for r in rows] == list(scores.METRICS)
    assert {r["metric"]: r["value"] for r in rows}["ssim"] == pytest.approx(1.0)


def test_wide_puts_one_column_per_metric_in_the_rows_order():
    rows = pd.DataFrame([{**LABELS, "image": i, "quantity": "phase", "reference": ref, "metric": m, "value": v}
                         for i in (3, 1) for ref in ("tie", "exact") for m, v in (("ssim", i / 10), ("mae", i))])
    rows.loc[rows["image"] == 1, "train_condition"] = np.nan  # a label may be missing (NaN) and is kept
    out = scores.wide(rows)
    assert list(out.columns) == [*scores.COLUMNS[:-2], "ssim", "mae"]
    assert out["image"].tolist() == [3, 3, 1, 1] and out["reference"].tolist() == ["tie", "exact"] * 2
    assert out["ssim"].tolist() == [0.3, 0.3, 0.1, 0.1] and out["train_condition"].isna().tolist() == [0, 0, 1, 1]


def test_condition_means_average_images_per_network_condition_seed_and_metric():
    rows = pd.DataFrame([{**LABELS, "test_condition": t, "image": i, "metric": "ssim", "value": v}
                         for t, i, v in (("b", 0, 0.2), ("b", 1, 0.4), ("c", 0, 0.9))])
    out = scores.condition_means(rows)
    assert list(out.columns) == scores.CROSS_COLUMNS
    assert out["test_condition"].tolist() == ["b", "c"] and out["value"].tolist() == pytest.approx([0.3, 0.9])
