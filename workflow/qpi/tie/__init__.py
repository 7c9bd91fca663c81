"""Transport-of-intensity phase retrieval and the brightness correction that precedes it.

The names callers use, from `solvers`, `fieldstop` (field-stop apertures) and `brightness`.
"""

from qpi.tie.brightness import brightness_correct, remove_background
from qpi.tie.fieldstop import field_stop
from qpi.tie.noise import noise_eps
from qpi.tie.solvers import (
    METHODS,
    aperture,
    aperture_solver,
    axial_derivative,
    dct_solver,
    describe,
    fft_solver,
    regularisation,
    solve,
)

__all__ = [
    "aperture",
    "aperture_solver",
    "axial_derivative",
    "brightness_correct",
    "dct_solver",
    "describe",
    "fft_solver",
    "field_stop",
    "METHODS",
    "noise_eps",
    "regularisation",
    "remove_background",
    "solve",
]
