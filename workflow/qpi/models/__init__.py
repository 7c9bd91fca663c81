"""The networks of the four families, by name: `build(name, **kwargs)`, `available()`.

Importing the package registers every built-in model (`qpi.models.registry`); the shared blocks
are in `qpi.models.layers`, the losses in `qpi.losses`.
"""

from qpi.models import contrans, despeckle, mcnn, srqpi  # noqa: F401  (each registers its models)
from qpi.models.registry import available, build, register  # noqa: F401
