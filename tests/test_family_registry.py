"""One family registry: generic code (summary, budget, model cards, `qpi predict`, `qpi info`) reaches
a family only through it, so a toy family registered here takes part without any generic code knowing
its name."""

import numpy as np
import pandas as pd
import pytest
import torch

from qpi import families, io, models, predict
from qpi.cli import card_lines
from qpi.families import card
from qpi.report import budget, cards, summary
from qpi.training.checkpoints import read_card, save_model


def toy_card(config, block, condition):
    return ({"channels": [{"quantity": "intensity"}], "pixel_um": 0.5, **card.tiles(16)},
            {"channels": [card.phase(0.5)], "note": f"toy on {condition}"})


def toy_prepare(model_card, files, given):
    image, pixel, z, notes = card.read_input(files[0], model_card, given)
    relative, aperture, more = card.relative_intensity(image[None], model_card, given, str(files[0]))
    return card.Prepared(2 * relative, 1, pixel, aperture, [z], notes + more)  # the toy's own input scaling


TOY = families.Family(
    name="toy", title="Toy-QPI", card=toy_card, prepare=toy_prepare, outputs=card.named_channels,
    summary_tables=("toy_scores",),
    headlines=lambda tables, level: tables["toy_scores"].assign(family="toy", setting=f"level {level}"),
    paper=lambda config: {"toynet": {"ssim": 0.5, "note": "Toy paper, Table 1"}},
    cross_table="toy_cross", budget_headline=lambda config, run: {"files": [f"toy/{run['model']}_{run['seed']}.csv"],
                                                                   "pairs": [["a", "a"]], "reference": "tie"},
    run_scores="results/toy/{condition}/eval/{model}_s{seed}.csv",
)


@pytest.fixture
def toy():
    families.register(TOY)
    yield TOY
    families.unregister("toy")


def test_the_papers_families_are_found_by_their_folders_in_summary_order():
    assert families.packages() == ["srqpi", "mcnn", "despeckle", "contrans"]
    assert [f.title for f in families.every()] == ["DL-SRQPI", "MCNN", "DespeckleNet", "ContransGAN"]
    with pytest.raises(ValueError, match="unknown family 'nope'; known families: srqpi, mcnn"):
        families.get("nope")


def test_a_toy_family_appears_in_the_summary_with_its_papers_number(toy):
    assert families.names()[-1] == "toy" and families.every()[-1] is toy
    tables = {"toy_scores": pd.DataFrame({"method": ["toynet"], "ssim": [0.7]})}
    rows = summary.headlines(tables, {"toy": {"level": 2}})  # only the families asked for
    table = summary.summary_table(rows, "demo", {"toy": toy.paper({})}).set_index("method")
    assert table.loc["toynet", "setting"] == "level 2" and table.loc["toynet", "paper_ssim"] == 0.5
    assert table.loc["toynet", "paper_note"] == "Toy paper, Table 1"


def test_a_toy_family_gives_model_cards_and_budget_runs(toy):
    config = {"toy": {"models": {"toynet": {"arch": "srcnn", "channels": [4, 2], "train": {"epochs": 3}}},
                      "train": {"epochs": 1}},
              "budget": {"families": {"toy": ["toynet"]}, "multipliers": [1], "seeds": [0]}}
    made = cards.for_run(config, "toy", "toynet", "a")
    assert made["family"] == "toy" and made["outputs"]["note"] == "toy on a"
    assert made["architecture"] == {"arch": "srcnn", "channels": [4, 2]}
    run, = budget.runs(config)
    assert run["files"] == ["toy/toynet_0.csv"] and run["epochs"] == 3 and run["reference"] == "tie"
    with pytest.raises(ValueError, match="budget: unknown family 'elsewhere'"):
        budget.runs({"budget": {"families": {"elsewhere": []}, "multipliers": [1], "seeds": [0]}})


def test_qpi_predict_and_info_dispatch_to_a_toy_family(toy, tmp_path):
    """A model file whose card names the toy family is prepared by the toy's own `prepare` (its input
    doubled) and described with its title; nothing generic knows the name."""
    net = models.build("srcnn", channels=[4, 2], upscale=1)
    meta = {"card": {**cards.for_run({"toy": {"models": {"n": {"arch": "srcnn"}}}}, "toy", "n", "a"),
                     "seed": 0, "code": "test", "training": {"data_digest": "x"}}}
    save_model(tmp_path / "toy.pt", net, meta)
    image = np.random.default_rng(0).uniform(0.5, 1.5, (24, 24)).astype(np.float32)
    io.write_image(tmp_path / "in.tif", image, pixel_um=0.5)
    out = predict.apply(tmp_path / "toy.pt", [tmp_path / "in.tif"], tmp_path / "out.tif", progress=None)
    with torch.no_grad():
        expected = net(torch.from_numpy(2 * image / image.mean())[None, None]).numpy()[0, 0]
    np.testing.assert_allclose(out.images["phase"], expected, atol=1e-5)
    assert card_lines(tmp_path / "toy.pt", read_card(tmp_path / "toy.pt"))[0].startswith(
        f"{tmp_path / 'toy.pt'}: Toy-QPI network 'n' trained on 'a'")


def test_a_card_of_a_family_this_deep_qpi_lacks_is_one_sentence(tmp_path):
    net = models.build("srcnn", channels=[4, 2], upscale=1)
    save_model(tmp_path / "gone.pt", net, {"card": {"family": "gone", "inputs": {}, "outputs": {}}})
    io.write_image(tmp_path / "in.tif", np.ones((16, 16), np.float32), pixel_um=0.5)
    with pytest.raises(io.StackError, match="gone.pt: unknown family 'gone'"):
        predict.apply(tmp_path / "gone.pt", [tmp_path / "in.tif"], tmp_path / "out.tif", progress=None)
