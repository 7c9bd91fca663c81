"""deep-qpi: deep-learning quantitative phase imaging, from raw through-focus stacks to papers."""

__version__ = "0.1.0"
