"""Per-pixel uncertainty from what the pipeline already trains: the seeds of a model as an ensemble, and
test-time augmentation over the dihedral group (the flips and quarter turns the trainers augment with).

Every network of a family is equivariant to these transforms by training, not by construction, so the
spread of the transformed predictions measures how much an output depends on things it should not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

DIHEDRAL = tuple((turns, flip) for flip in (False, True) for turns in range(4))  # (quarter turns, mirrored)
IDENTITY = ((0, False),)


def transform(a: np.ndarray, turns: int, flip: bool) -> np.ndarray:
    """`a` (..., H, W) mirrored left-right (when `flip`), then turned by `turns` quarter turns."""
    a = a[..., ::-1] if flip else a
    return np.ascontiguousarray(np.rot90(a, turns, axes=(-2, -1)))


def untransform(a: np.ndarray, turns: int, flip: bool) -> np.ndarray:
    """The inverse of `transform`."""
    a = np.rot90(a, -turns, axes=(-2, -1))
    return np.ascontiguousarray(a[..., ::-1] if flip else a)


def samples(predictors: Sequence[Callable[[np.ndarray], np.ndarray]], x: np.ndarray,
            transforms: Sequence[tuple[int, bool]] = DIHEDRAL) -> list[np.ndarray]:
    """Each predictor's output for each transform of the input `x` (C, H, W), transformed back."""
    return [untransform(predict(transform(x, *t)), *t) for predict in predictors for t in transforms]


def spread(images: Sequence[np.ndarray], piston: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation over samples of one output image (H, W). With `piston` (a phase,
    defined up to a constant), each sample is first shifted onto the first one by the median of their
    difference, so an unobservable offset does not pass for uncertainty."""
    stack = np.stack([np.asarray(a, np.float64) for a in images])
    if piston and len(stack) > 1:
        offsets = np.nanmedian((stack - stack[0]).reshape(len(stack), -1), axis=1)
        stack = stack - offsets[:, None, None]
    return stack.mean(axis=0).astype(np.float32), stack.std(axis=0).astype(np.float32)


def ensemble(predictors: Sequence[Callable[[np.ndarray], np.ndarray]], x: np.ndarray, named: Callable,
             transforms: Sequence[tuple[int, bool]] = DIHEDRAL) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Mean and σ of each named output over `samples`: `named(y)` turns one network output (C', H, W) into
    its images by quantity (`Family.outputs`); a phase's pistons are aligned (`spread`)."""
    outputs = [named(y[None] if y.ndim == 2 else y) for y in samples(predictors, x, transforms)]
    return {name: spread([o[name] for o in outputs], piston=name == "phase") for name in outputs[0]}
