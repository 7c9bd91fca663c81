"""DespeckleNet's run planning: which speckle data, specimens and evaluations each condition's rules
use. Conditions acquired alike share their data and networks (`shared`), so the rules ask here."""

from __future__ import annotations

from qpi.core import paths
from qpi.families.despeckle import conditions, level_training, shared


class Plan:
    """The planning of one `despeckle` config block."""

    def __init__(self, block: dict):
        self.block = block
        self.conditions = conditions(block)
        self.levels = [f"l{i + 1}" for i in range(len(block["correlation_um"]))]

    def data_of(self, condition: str, splits: list[str]) -> str:
        """The condition whose data `condition` uses on `splits` (`shared`)."""
        return shared(self.conditions, condition, splits)

    def speckle(self, condition: str, split: str) -> str:
        """The speckle images `condition` uses on `split`: its own, or those of the condition it shares them with."""
        return paths.fill(paths.DESPECKLE["speckle"], condition=self.data_of(condition, [split]), split=split)

    @staticmethod
    def specimens(split: str) -> str:
        """The specimens (targets) of one split."""
        return paths.fill(paths.DESPECKLE["specimens"], split=split)

    def trained_on(self, condition: str) -> str:
        """The condition whose networks serve `condition`: a scatter level's sweep networks (its own, or
        the pooled ones), else those trained on the data `condition` shares."""
        if condition in self.levels:
            return level_training(self.block, self.conditions, condition)
        return self.data_of(condition, ["train", "val"])

    def evals(self, conditions: list[str], output: str = "scores", seeds: list[int] | None = None) -> list[str]:
        """Evaluation `output`s (scores, predictions) of the networks trained for `conditions`: one per
        training data and seed."""
        trains = list(dict.fromkeys(self.trained_on(c) for c in conditions))
        return [paths.fill(paths.DESPECKLE[output], condition=c, seed=s) for c in trains for s in seeds or self.block["seeds"]]
