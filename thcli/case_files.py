"""The files thcli wrote about a case (letters, subject access files): where they are and whose they are.

A letter's path is stored relative to the database's letters folder
(``letters/`` beside the database), so a database moved with its folder still
finds its letters; a letter written elsewhere (``--out``) is stored absolute.
Each file is recorded with its SHA-256 and the database file that wrote it
(``made_in``).

Retention deletes a file only when all of these hold (:func:`removable`):

- this database recorded it, and the file's hash still matches the record
  (a file changed since, or replaced by another, is the coordinator's now);
- the database that wrote it is this one: ``made_in`` is this database's
  file, or names a file that is no longer there (the database was moved). A
  copy of the database, beside the original or anywhere else, finds the
  original still in place and so deletes none of the original's files.

Everything else is reported, never deleted. ``db check`` and ``db restore``
report letter files that are missing or changed (:func:`letter_problems`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from thcli.files import printable

if TYPE_CHECKING:
    from thcli.db import Connected

LETTERS_FOLDER = "letters"


def database_file(db: Connected) -> Path | None:
    """The file of an open database, resolved (None: an in-memory or unknown one)."""
    path = getattr(db, "path", None)
    if path is None:
        row = db.conn.execute("PRAGMA database_list").fetchone()
        path = Path(row[2]) if row and row[2] else None
    if path is None:
        return None
    try:
        return Path(path).expanduser().resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def letters_folder(db_path: Path) -> Path:
    """The database's own letters folder: ``letters/`` beside it."""
    return Path(db_path).expanduser().resolve().parent / LETTERS_FOLDER


def stored_path(db_path: Path | None, file: Path) -> str:
    """How a letter's path is stored: relative to the letters folder when inside it, else absolute."""
    resolved = Path(file).resolve()
    if db_path is not None:
        try:
            return PurePosixPath(*resolved.relative_to(letters_folder(db_path)).parts).as_posix()
        except ValueError:
            pass
    return str(resolved)


def located(db_path: Path | None, stored: str) -> Path:
    """Where a stored letter path points: relative ones inside this database's letters folder."""
    file = Path(stored).expanduser()
    if file.is_absolute() or db_path is None:
        return file
    return letters_folder(db_path) / file


def sha256_of(file: Path) -> str | None:
    """The file's SHA-256, or None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with open(file, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def written_here(made_in: str | None, db_path: Path | None, file: Path) -> bool:
    """Whether the database at ``db_path`` is the one that wrote ``file`` (see the module's rules)."""
    if db_path is None:
        return False
    here = Path(db_path).resolve()
    if made_in is None:
        # Recorded before thcli noted which database wrote a file: only a file in this
        # database's own letters folder is taken as its own.
        try:
            Path(file).resolve().relative_to(letters_folder(here))
        except (ValueError, OSError):
            return False
        return True
    if Path(made_in) == here:
        return True
    try:
        return not os.path.lexists(made_in)  # the database moved: the file is this one's
    except (OSError, ValueError):
        return False


@dataclass
class FileState:
    """One recorded file as found on disk."""

    file: Path
    state: str  # "ok", "missing", "changed" or "elsewhere" (written by another copy of the database)

    def describe(self) -> str:
        why = {"missing": "missing", "changed": "changed since thcli wrote it",
               "elsewhere": "written by another copy of this database, which is still there",
               "ok": "as written"}[self.state]
        return f"{printable(self.file)} ({why})"


def state_of(db_path: Path | None, stored: str, sha256: str | None, made_in: str | None) -> FileState:
    file = located(db_path, stored)
    if not file.is_file():
        return FileState(file, "missing")
    if not sha256 or sha256_of(file) != sha256:
        return FileState(file, "changed")
    if not written_here(made_in, db_path, file):
        return FileState(file, "elsewhere")
    return FileState(file, "ok")


def remove(found: FileState) -> bool:
    """Delete a file that is this database's own and unchanged; False (kept) otherwise."""
    if found.state != "ok":
        return False
    try:
        found.file.unlink()
    except FileNotFoundError:
        return False
    except OSError:
        found.state = "changed"  # cannot be deleted: reported with the rest
        return False
    return True


def letter_problems(db: Connected, db_path: Path | None = None) -> list[FileState]:
    """The letter files this database recorded that are missing or changed (for ``db check``, ``db restore``)."""
    db_path = db_path or database_file(db)
    problems = []
    for stored, sha256 in db.conn.execute("SELECT path, sha256 FROM letters WHERE path IS NOT NULL AND path <> ''"):
        found = state_of(db_path, stored, sha256, None)
        if found.state in ("missing", "changed"):
            problems.append(found)
    return problems


def summary(problems: list[FileState], shown: int = 3) -> str:
    """``2 missing, 1 changed: a.docx (missing), ...``"""
    counts = {state: sum(1 for p in problems if p.state == state) for state in ("missing", "changed")}
    text = ", ".join(f"{n} {state}" for state, n in counts.items() if n)
    names = "; ".join(p.describe() for p in problems[:shown]) + (" ..." if len(problems) > shown else "")
    return f"{text}: {names}"
