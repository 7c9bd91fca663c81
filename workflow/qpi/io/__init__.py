"""Raw stack and image I/O (TIFF with ImageJ or OME metadata) and validation with clear errors.

The names callers use, from `stack` (the model and its checks), `tiff`, `sheet` and `jsonfile`.
"""

from qpi.core.errors import StackError
from qpi.io.jsonfile import read_json, write_json
from qpi.io.sheet import check_sample_sheet, grid_problem, read_sample_sheet, sheet_overrides
from qpi.io.stack import FOCUS_TOL_UM, Stack, format_z, path_names, validate_stack
from qpi.io.tiff import (
    read_channels,
    read_image,
    read_measured_phase,
    read_single_image,
    read_stack,
    write_channels,
    write_image,
    write_stack,
)

__all__ = [
    "check_sample_sheet",
    "FOCUS_TOL_UM",
    "format_z",
    "grid_problem",
    "path_names",
    "read_channels",
    "read_image",
    "read_json",
    "read_measured_phase",
    "read_sample_sheet",
    "read_single_image",
    "read_stack",
    "sheet_overrides",
    "Stack",
    "StackError",
    "validate_stack",
    "write_channels",
    "write_image",
    "write_json",
    "write_stack",
]
