"""The sample sheet (config/stacks.tsv): its rows as `read_stack` arguments, checked before any TIFF is read."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from qpi.core.errors import StackError
from qpi.io.stack import _KNOWN, FOCUS_TOL_UM, format_z

_SHEET_COLUMNS = ("name", "path", "kind", "field", *_KNOWN, "tie_planes_um", "input_um", "phase_path", "diffuser",
                  "objective", "split")
_SHEET_LISTS = ("z_um", "tie_planes_um")  # comma-separated numbers in the sheet
_SHEET_TEXT = ("phase_path", "kind", "field", "diffuser", "objective", "split")
KINDS = ("stack", "speckle", "lowres")  # a through-focus stack; one image through a diffuser; one low-NA image
SPLITS = ("train", "val", "test")
_STACK_ONLY = ("tie_planes_um", "input_um", "phase_path")  # a single image has no planes and no phase of its own
_LABEL = r"[A-Za-z0-9][A-Za-z0-9_.-]*"  # names that become parts of paths: stack and field names
_CONDITION = r"[A-Za-z0-9][A-Za-z0-9.+-]*"  # diffuser and objective labels: a family's condition (no '_')


def read_sample_sheet(path: str | Path) -> list[dict]:
    """Rows of a tab-separated sample sheet (config/stacks.tsv) as dicts of `read_stack` arguments,
    or the first of its problems as one StackError sentence (`check_sample_sheet` lists them all).

    Columns: name, path, and optionally kind (stack, the default: a through-focus stack; speckle: one
    image through a diffuser; lowres: one low-NA bright-field image), field (rows showing the same
    field of view share it; default: the row's name), wavelength_um, pixel_um, z_um (comma-separated),
    na, coherence, magnification, medium_index, tie_planes_um (comma-separated: the planes this
    stack's TIE uses), input_um (the defocused plane DL-SRQPI's network sees), phase_path (a measured
    phase of the in-focus field, rad, on the stack's pixel grid: DHM, QLSI, ...), diffuser (a speckle
    image's diffuser label: DespeckleNet's condition), objective (a low-NA image's objective label:
    ContransGAN's condition; default magnification×NA) and split (train, val or test: pins the field).
    A path cell listing several files (comma-separated, in z order) becomes a list. Empty cells become
    None ("take it from the TIFF"), as do missing trailing cells. Blank lines and lines starting with
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
    rows, lines, problems, seen = [], [], [], set()
    for n, raw in enumerate(reader, start=2):
        try:
            rows.append(_sheet_row(raw, path, n, seen))
            lines.append(n)
        except StackError as err:
            problems.append(str(err))
    links = _link_problems(rows, lines, path)
    bad = {name for name, _ in links}
    return [r for r in rows if r["name"] not in bad], problems + [problem for _, problem in links]


def _link_problems(rows: list[dict], lines: list[int], sheet: Path) -> list[tuple[str, str]]:
    """(row name, sentence) for each broken link between rows: a field with two stacks, a speckle or
    low-NA image whose field has no stack, a field pinned to two splits, a low-NA pixel that is not a
    whole number of the field's stack pixels (where the sheet gives both)."""
    where = {r["name"]: f"{sheet}: line {n} ({r['name']})" for r, n in zip(rows, lines)}
    stacks: dict[str, dict] = {}
    out = []
    for row in rows:
        if row["kind"] == "stack":
            other = stacks.setdefault(row["field"], row)
            if other is not row:
                out.append((row["name"], f"{where[row['name']]}: field {row['field']!r} already has the stack "
                                         f"{other['name']!r}; give each stack of a different field of view its own "
                                         "field name."))
    pins: dict[str, tuple[str, str]] = {}
    for row in rows:
        if row["split"]:
            first = pins.setdefault(row["field"], (row["split"], row["name"]))
            if first[0] != row["split"]:
                out.append((row["name"], f"{where[row['name']]}: split {row['split']} but row {first[1]!r} of the "
                                         f"same field {row['field']!r} says {first[0]}; pin a field to one split."))
        if row["kind"] == "stack":
            continue
        stack = stacks.get(row["field"])
        what = "speckle image" if row["kind"] == "speckle" else "low-NA image"
        if stack is None:
            out.append((row["name"], f"{where[row['name']]}: {what} of field {row['field']!r}, but no stack row has "
                                     f"that field; add the stack of field {row['field']!r} (kind stack, field "
                                     f"{row['field']}) or correct this row's field."))
        elif row["kind"] == "lowres" and row["pixel_um"] and stack["pixel_um"]:
            problem = grid_problem(row["pixel_um"], stack["pixel_um"], stack["name"])
            if problem:
                out.append((row["name"], f"{where[row['name']]}: {problem}"))
    return out


def grid_problem(lowres_pixel_um: float, stack_pixel_um: float, stack: str) -> str | None:
    """Why a low-NA image cannot be put on its field's high-NA grid (its pixel is not a whole number of
    the stack's pixels), or None."""
    ratio = lowres_pixel_um / stack_pixel_um
    if round(ratio) >= 1 and abs(ratio - round(ratio)) <= 0.01 * ratio:
        return None
    return (f"the low-NA pixel {lowres_pixel_um:g} µm is {ratio:.3g}× the pixel {stack_pixel_um:g} µm of its field's "
            f"stack {stack!r}, not a whole number of them; check both pixel sizes (camera pixel / magnification).")


def _sheet_row(raw: dict, path: Path, n: int, seen: set[str]) -> dict:
    """One line of the sheet as `read_stack` arguments, or its first problem (StackError). Its name
    joins `seen` as soon as it is valid, so a later row repeating it is reported even if this row fails."""
    if None in raw:  # more cells than columns; fewer is fine (editors drop trailing tabs)
        raise StackError(f"{path}: line {n} has more tab-separated cells than the header has columns; "
                         "separate cells with single tabs and leave optional cells empty.")
    cells = {k.strip(): (v or "").strip() for k, v in raw.items()}
    name = cells.get("name", "")
    if not name or not re.fullmatch(_LABEL, name) or name in seen:
        raise StackError(f"{path}: line {n} name {name!r} is empty, repeated or has characters other "
                         "than letters, digits, '_', '-', '.'; give each stack a unique simple name.")
    seen.add(name)
    row = {c: _sheet_value(c, cells.get(c, ""), path, n) for c in _SHEET_COLUMNS}
    row["kind"] = row["kind"] or "stack"
    row["field"] = row["field"] or name
    if row["kind"] == "lowres" and not row["objective"] and row["magnification"] and row["na"]:
        row["objective"] = f"{row['magnification']:g}x{row['na']:g}"
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
    _check_labels(row, where)
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


def _check_labels(row: dict, where: str) -> None:
    """A row's kind, split and labels, and the columns its kind may not use."""
    if row["kind"] not in KINDS:
        raise StackError(f"{where}: kind {row['kind']!r} is not one of {', '.join(KINDS)}; write stack for a "
                         "through-focus stack, speckle for an image through a diffuser, lowres for a low-NA image.")
    if row["split"] and row["split"] not in SPLITS:
        raise StackError(f"{where}: split {row['split']!r} is not one of {', '.join(SPLITS)}; pin the field to one of "
                         "them or leave the cell empty.")
    for column, pattern, allowed in (("field", _LABEL, "'_', '-', '.'"), ("diffuser", _CONDITION, "'-', '.', '+'"),
                                     ("objective", _CONDITION, "'-', '.', '+'")):
        if row[column] and not re.fullmatch(pattern, row[column]):
            raise StackError(f"{where}: {column} {row[column]!r} has characters other than letters, digits, "
                             f"{allowed}; use a simple label (it names files and table rows).")
    if row["kind"] == "stack":
        if row["diffuser"] or row["objective"]:
            raise StackError(f"{where}: a stack row has a diffuser or objective label, which belong to speckle and "
                             "lowres rows; set kind, or leave those cells empty.")
        return
    used = [c for c in _STACK_ONLY if row[c] is not None] + (["path (several files)"] if isinstance(row["path"], list)
                                                             else [])
    if used:
        raise StackError(f"{where}: a {row['kind']} row is one image, but it gives {', '.join(used)}; put those on the "
                         "stack row of its field.")
    if row["kind"] == "speckle" and not row["diffuser"]:
        raise StackError(f"{where}: a speckle row needs its diffuser label (e.g. tape, petri, tissue) in the "
                         "diffuser column.")
    if row["kind"] == "lowres" and not row["objective"]:
        raise StackError(f"{where}: a lowres row needs its objective label (objective column, e.g. 10x) or its "
                         "magnification and na.")


def _sheet_value(column: str, text: str, path: Path, line: int):
    if column == "name":
        return text
    if column == "path":  # several files, one plane each, in z order
        return [f.strip() for f in text.split(",")] if "," in text else text
    if not text:
        return None
    if column in _SHEET_TEXT:
        return text
    try:
        if column in _SHEET_LISTS:
            return [float(v) for v in text.split(",")]
        return float(text)
    except ValueError:
        raise StackError(f"{path}: line {line}, column {column}: {text!r} is not "
                         f"{'a comma-separated list of numbers' if column in _SHEET_LISTS else 'a number'}; "
                         "write plain numbers in µm (or leave the cell empty to use the TIFF's metadata).") from None
