"""The sample sheet (config/stacks.tsv): its rows as `read_stack` arguments, checked before any TIFF is read."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from qpi.core.errors import StackError
from qpi.io.stack import _KNOWN, FOCUS_TOL_UM, format_z

_SHEET_COLUMNS = ("name", "path", *_KNOWN, "tie_planes_um", "input_um", "phase_path")
_SHEET_LISTS = ("z_um", "tie_planes_um")  # comma-separated numbers in the sheet


def read_sample_sheet(path: str | Path) -> list[dict]:
    """Rows of a tab-separated sample sheet (config/stacks.tsv) as dicts of `read_stack` arguments,
    or the first of its problems as one StackError sentence (`check_sample_sheet` lists them all).

    Columns: name, path, and optionally wavelength_um, pixel_um, z_um (comma-separated),
    na, coherence, magnification, medium_index, tie_planes_um (comma-separated: the planes this
    stack's TIE uses), input_um (the defocused plane DL-SRQPI's network sees) and phase_path (a measured
    phase of the in-focus field, rad, on the stack's pixel grid: DHM, QLSI, ...). A path cell
    listing several files (comma-separated, in z order) becomes a list. Empty cells become None
    ("take it from the TIFF"), as do missing trailing cells. Blank lines and lines starting with
    '#' are ignored. Listed files must exist (relative to the working directory).
    """
    rows, problems = check_sample_sheet(path)
    if problems:
        raise StackError(problems[0])
    return rows


def check_sample_sheet(path: str | Path) -> tuple[list[dict], list[str]]:
    """The rows of a sample sheet that pass every check made before a TIFF is read, and one sentence
    per problem found (each naming the sheet, the line and the fix): a bad header stops there, a bad
    row is reported and skipped."""
    path = Path(path)
    if not path.is_file():
        return [], [f"{path}: sample sheet not found; create it (a header line is enough) or fix the path."]
    lines = [line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    if not lines:
        return [], []
    reader = csv.DictReader(lines, delimiter="\t")
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in ("name", "path") if c not in header]
    unknown = [c for c in header if c not in _SHEET_COLUMNS]
    if missing or unknown:
        problem = f"missing column(s) {missing}" if missing else f"unknown column(s) {unknown}"
        return [], [f"{path}: {problem}; the tab-separated header may use only {list(_SHEET_COLUMNS)} "
                    "and must include name and path."]
    rows, problems, seen = [], [], set()
    for n, raw in enumerate(reader, start=2):
        try:
            rows.append(_sheet_row(raw, path, n, seen))
        except StackError as err:
            problems.append(str(err))
    return rows, problems


def _sheet_row(raw: dict, path: Path, n: int, seen: set[str]) -> dict:
    """One line of the sheet as `read_stack` arguments, or its first problem (StackError). Its name
    joins `seen` as soon as it is valid, so a later row repeating it is reported even if this row fails."""
    if None in raw:  # more cells than columns; fewer is fine (editors drop trailing tabs)
        raise StackError(f"{path}: line {n} has more tab-separated cells than the header has columns; "
                         "separate cells with single tabs and leave optional cells empty.")
    cells = {k.strip(): (v or "").strip() for k, v in raw.items()}
    name = cells.get("name", "")
    if not name or not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or name in seen:
        raise StackError(f"{path}: line {n} name {name!r} is empty, repeated or has characters other "
                         "than letters, digits, '_', '-', '.'; give each stack a unique simple name.")
    seen.add(name)
    row = {c: _sheet_value(c, cells.get(c, ""), path, n) for c in _SHEET_COLUMNS}
    _check_sheet_row(row, path, n)
    return row


def planes_problem(row: dict, z_um) -> str | None:
    """What is wrong with a row's `tie_planes_um` and `input_um` against the planes its stack has (z in
    µm, from the sheet or the file), or None."""
    z = np.asarray(z_um, float)
    wanted = {"tie_planes_um": row.get("tie_planes_um") or [], "input_um": [] if row.get("input_um") is None
              else [row["input_um"]]}
    for column, values in wanted.items():
        absent = [v for v in values if not np.any(np.abs(z - v) < FOCUS_TOL_UM)]
        if absent:
            return (f"{column} {format_z(absent)} µm not among the stack's planes at z = {format_z(z)} µm; choose "
                    "them from the stack's z positions.")
    return None


def sheet_overrides(row: dict) -> dict:
    """The `read_stack` keyword overrides a sample-sheet row gives (its non-empty metadata cells)."""
    return {k: row[k] for k in _KNOWN if row.get(k) is not None}


def _check_sheet_row(row: dict, sheet: Path, line: int) -> None:
    """What can be checked before any TIFF is read: the files exist and the z lists agree."""
    where = f"{sheet}: line {line} ({row['name']})"
    files = row["path"] if isinstance(row["path"], list) else [row["path"]]
    if not all(files):
        raise StackError(f"{where} has {'no path' if files == [''] else 'an empty file name in its path list'}; "
                         "give the TIFF stack's path, or each plane's file comma-separated in z order.")
    for f, column in [*((f, "path") for f in files), *([(row["phase_path"], "phase_path")] if row["phase_path"] else [])]:
        if not Path(f).is_file():
            cwd = "" if Path(f).is_absolute() else f" (relative paths start from the working directory {Path.cwd()})"
            raise StackError(f"{where}: file {f} not found{cwd}; fix its path in the {column} column.")
    z, planes = row["z_um"], row["tie_planes_um"]
    if len(files) > 1 and z is not None and len(z) != len(files):
        raise StackError(f"{where}: {len(files)} files but {len(z)} z positions ({format_z(z)} µm); give one z per "
                         "file, in the same order, in the z_um column.")
    if z is not None and planes is not None:
        absent = [p for p in planes if not np.any(np.abs(np.asarray(z) - p) < FOCUS_TOL_UM)]
        if absent:
            raise StackError(f"{where}: tie_planes_um {format_z(absent)} µm not among z_um {format_z(z)} µm; choose "
                             "the TIE planes from the stack's z positions.")


def _sheet_value(column: str, text: str, path: Path, line: int):
    if column == "name":
        return text
    if column == "path":  # several files, one plane each, in z order
        return [f.strip() for f in text.split(",")] if "," in text else text
    if not text:
        return None
    if column == "phase_path":
        return text
    try:
        if column in _SHEET_LISTS:
            return [float(v) for v in text.split(",")]
        return float(text)
    except ValueError:
        raise StackError(f"{path}: line {line}, column {column}: {text!r} is not "
                         f"{'a comma-separated list of numbers' if column in _SHEET_LISTS else 'a number'}; "
                         "write plain numbers in µm (or leave the cell empty to use the TIFF's metadata).") from None
