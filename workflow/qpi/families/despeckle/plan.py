"""DespeckleNet's run planning: which speckle data, specimens and evaluations each condition's rules
use. Conditions acquired alike share their data and networks (`shared`), so the rules ask here.
`UserPlan` plans the same rules on a sample sheet's speckle images (`qpi.families.despeckle.user`)."""

from __future__ import annotations

from qpi.core import paths
from qpi.families.despeckle import POOLED, conditions, level_training, shared, test_sets, trained


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
    def specimens(split: str, condition: str | None = None) -> str:
        """The specimens (targets) of one split, the same for every condition."""
        return paths.fill(paths.DESPECKLE["specimens"], split=split)

    def trained(self) -> dict[str, list[str]]:
        """{training condition: models}: `despeckle.trained`."""
        return trained(self.block, self.conditions)

    def tests(self) -> list[str]:
        """The distinct test splits every network is scored on."""
        return test_sets(self.conditions)

    def correlation_um(self, test: str) -> float | list[float]:
        return self.conditions[test]["diffuser"]["correlation_um"]

    def train_sets(self, condition: str) -> int:
        return self.conditions[condition]["sets"]["train"]

    def table_pairs(self) -> list[tuple[str, str]]:
        """(training condition, test split) of the correlation table: each level by the network the sweep scores there."""
        return [(self.trained_on(c), self.data_of(c, ["test"])) for c in self.levels]

    def table_scores(self) -> list[str]:
        """The evaluations the correlation table reads."""
        return self.evals(self.levels)

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


class UserPlan:
    """The same questions answered for a sample sheet's speckle images: one condition per diffuser label
    (and `pooled`), each condition's own data files, every network tested on every diffuser."""

    def __init__(self, block: dict, conditions: dict[str, list[str]]):
        self.block = block
        self.conditions = conditions  # {condition: speckle row names}
        self.levels = [c for c in conditions if c != POOLED]  # the diffusers, each a test split

    def data_of(self, condition: str, splits: list[str]) -> str:
        return condition

    def speckle(self, condition: str, split: str) -> str:
        return paths.fill(paths.DESPECKLE["speckle"], condition=condition, split=split)

    @staticmethod
    def specimens(split: str, condition: str | None = None) -> str:
        """A condition's own targets: its speckle images' fields cut alike."""
        return paths.fill(paths.DESPECKLE["user_specimens"], condition=condition, split=split)

    def trained_on(self, condition: str) -> str:
        return condition

    def label(self, stack: dict) -> str:
        """The phase target of a sheet stack's field (`despeckle.label`): its TIE phase, or its measured phase."""
        label = self.block["label"]
        if label == "tie":
            return paths.fill(paths.STACK["tie"], stack=stack["name"])
        if label == "measured" and stack["phase_path"]:
            return paths.fill(paths.STACK["measured"], stack=stack["name"])
        if label == "measured":
            raise ValueError(f"despeckle.label is measured, but the stack {stack['name']} has no phase_path in the "
                             "sample sheet; give its measured phase there, or set despeckle.label: tie")
        raise ValueError(f"despeckle.label is {label}, but your fields have no exact phase; set tie (each field's TIE) "
                         "or measured (the sheet's phase_path)")

    def trained(self) -> dict[str, list[str]]:
        return {c: list(self.block["models"]) for c in self.conditions}

    def tests(self) -> list[str]:
        return list(self.levels)

    @staticmethod
    def correlation_um(test: str) -> None:
        return None  # a real diffuser's correlation length is not known

    @staticmethod
    def train_sets(condition: str) -> None:
        return None

    def table_pairs(self) -> list[tuple[str, str]]:
        """Each diffuser by its own networks and, with several diffusers, by the pooled ones."""
        pooled = [(POOLED, c) for c in self.levels] if POOLED in self.conditions else []
        return [(c, c) for c in self.levels] + pooled

    def table_scores(self) -> list[str]:
        return self.evals(list(self.conditions))

    def evals(self, conditions: list[str], output: str = "scores", seeds: list[int] | None = None) -> list[str]:
        return [paths.fill(paths.DESPECKLE[output], condition=c, seed=s) for c in conditions
                for s in seeds or self.block["seeds"]]
