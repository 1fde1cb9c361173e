"""Every file and folder thcli writes: private, atomic, and where it was meant to go.

One place for the rules that protect what leaves the database (DESIGN.md §8):

- files are readable by their owner only (0600) and folders thcli creates are
  0700, the intermediate ones too;
- a file is written to a temporary name beside it, synced, and only then moved
  into place, so a crash never leaves half a letter or half an export under the
  final name (:func:`write_atomically`);
- a name made from stored data (a case reference) cannot climb out of the
  folder it is meant for (:func:`inside`), and a second file of the same name
  is numbered rather than written over (:func:`publish_new`);
- an operating-system error becomes one sentence a coordinator can act on
  (:func:`os_problem`), never a traceback;
- an existing file is written over only with ``--force``, only when it is an
  earlier file of the same kind (recognised by its content), and never when
  it is the database, one of its side files or a backup (:func:`may_replace`);
- a work file beside the database (``db encrypt``, ``db restore``) has a name
  a later run recognises, so a killed run's leftovers are removed next time
  (:func:`work_file`, :func:`remove_work_files`).

Windows has no ``os.fchmod`` before Python 3.13 and ignores POSIX modes (``os.chmod``
sets only the read-only flag): there the files are protected by the folder they
are in. thcli's own folder is in the user's profile (``%LOCALAPPDATA%\\thcli``),
which only that user and the administrators can open; ``db check`` says when the
database is elsewhere (:func:`posix_modes`, maintenance.py). Nothing here calls a
function Windows lacks: tests/test_windows.py runs the main flows without them.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import IO, TypeVar

from thcli.errors import BadInput, NotAllowed, ThcliError

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700

T = TypeVar("T")


# --- errors ----------------------------------------------------------------------------------


def os_problem(error: OSError, path: Path | str, *, option: str | None = None,
               doing: str = "write") -> ThcliError:
    """An OSError as one sentence naming the path and what to do (BadInput when an option named it)."""
    code = getattr(error, "errno", None)
    where = printable(path)
    if code == errno.ENAMETOOLONG:
        message = f"{where}: the name is too long for this disk: choose a shorter name or folder"
    elif getattr(error, "winerror", None) in _IN_USE:
        message = (f"cannot {doing} {where}: another program has it open (Word, Excel, or a preview): close it "
                   "there and try again")
    elif code in (errno.EACCES, errno.EPERM, errno.EROFS):
        message = f"cannot {doing} {where}: permission denied. Choose a folder you can write to"
    elif code == errno.ENOTDIR:
        message = f"{where}: part of this path is a file, not a folder. Choose another path"
    elif code == errno.EISDIR:
        message = f"{where} is a folder: give a file name inside it"
    elif code == errno.ENOENT:
        message = f"{where}: the folder does not exist. Create it first or choose another"
    elif code == errno.EEXIST:
        message = f"{where} already exists: choose another name"
    elif code == errno.ENOSPC:
        message = f"cannot {doing} {where}: the disk is full. Free some space and try again"
    elif code == errno.EINVAL:
        message = f"{where}: the name is not allowed on this disk (odd characters?): choose another"
    else:
        reason = error.strerror or type(error).__name__
        message = f"cannot {doing} {where} ({reason})"
    # A path the coordinator typed that cannot be used is a bad command line (exit 2); a full
    # disk or a failing device is not (exit 1).
    if option is not None and code in _PATH_ERRORS and getattr(error, "winerror", None) not in _IN_USE:
        return BadInput(message, option)
    return ThcliError(message)


#: Windows' sharing and lock violations: the file is open in another program (a letter open in Word).
_IN_USE = (32, 33)

_PATH_ERRORS = frozenset({errno.ENAMETOOLONG, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR,
                          errno.ENOENT, errno.EEXIST, errno.EINVAL})


def printable(path: Path | str) -> str:
    """A path as text that any terminal can print (bytes that are not UTF-8 shown as escapes)."""
    return os.fsdecode(os.fspath(path)).encode("utf-8", "backslashreplace").decode("utf-8")


# --- modes ---------------------------------------------------------------------------------------


def posix_modes() -> bool:
    """Whether files have owner, group and others permission bits here (not on Windows)."""
    return os.name != "nt"


def make_private(path: Path | str) -> None:
    """Set a file to owner-only (a no-op where the platform has no POSIX modes)."""
    try:
        os.chmod(path, PRIVATE_FILE_MODE)
    except NotImplementedError:  # pragma: no cover - platforms without chmod
        pass


def _private_fd(fd: int, path: Path | str) -> None:
    fchmod = getattr(os, "fchmod", None)
    if fchmod is not None:
        fchmod(fd, PRIVATE_FILE_MODE)
    else:  # Windows before Python 3.13
        make_private(path)


def private_folder(folder: Path | str, *, option: str | None = None) -> Path:
    """``folder``, created owner-only (0700) with every missing parent, or a clear error.

    ``Path.mkdir(parents=True, mode=...)`` gives the mode to the last folder
    only; here each folder thcli creates gets it.
    """
    folder = Path(folder).expanduser()
    try:
        if folder.is_dir():
            return folder
        if folder.exists():
            raise BadInput(f"{printable(folder)} is a file, not a folder", option) if option else \
                NotAllowed(f"{printable(folder)} is a file, not a folder")
        missing = []
        current = folder
        while not current.exists():
            missing.append(current)
            if current.parent == current:
                break
            current = current.parent
        if current.exists() and not current.is_dir():
            raise OSError(errno.ENOTDIR, "Not a directory", str(current))
        for level in reversed(missing):
            level.mkdir(mode=PRIVATE_DIR_MODE)
            try:
                os.chmod(level, PRIVATE_DIR_MODE)  # the umask may have taken bits off
            except NotImplementedError:  # pragma: no cover
                pass
    except OSError as error:
        raise os_problem(error, folder, option=option, doing="create the folder") from None
    except ValueError:  # a NUL in the name
        raise _bad_name(folder, option) from None
    return folder


def create_private_file(path: Path) -> None:
    """Create an empty file readable by its owner only (its folder too, if new); never over one."""
    private_folder(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0), PRIVATE_FILE_MODE)
    try:
        _private_fd(fd, path)
    finally:
        os.close(fd)


def open_private_for_writing(path: Path, binary: bool = True) -> IO:
    """Open ``path`` for writing, created 0600 (or truncated and set 0600)."""
    private_folder(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY | getattr(os, "O_BINARY", 0), PRIVATE_FILE_MODE)
    _private_fd(fd, path)
    if binary:
        return os.fdopen(fd, "wb")
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


# --- paths ----------------------------------------------------------------------------------------


def _bad_name(path: Path | str, option: str | None) -> ThcliError:
    message = f"{printable(path)}: the name has a character no file name may have"
    return BadInput(message, option) if option else NotAllowed(message)


def inside(folder: Path, name: str, *, option: str | None = None) -> Path:
    """``folder / name``, refused (NotAllowed) when the name would climb out of ``folder``.

    ``name`` is made from stored data (a case reference, a contractor code): a
    reference such as ``../../x`` in a damaged or foreign database must never
    write anywhere but the folder the coordinator chose.
    """
    if not name or name in (".", "..") or "\x00" in name or "/" in name or "\\" in name or \
            (os.name == "nt" and ":" in name):
        raise NotAllowed(f"{printable(name)!s} cannot be used as a file name inside {printable(folder)}: "
                         "it names another folder, so nothing was written. thcli never makes such a name: "
                         "check where this database came from")
    base = Path(folder).resolve()
    target = (base / name).resolve()
    if target.parent != base:
        raise NotAllowed(f"{printable(name)} would be written outside {printable(folder)}: nothing was written")
    return base / name


def numbered(path: Path, n: int) -> Path:
    """``letter.docx``, ``letter-2.docx``, ``letter-3.docx``..."""
    return path if n <= 1 else path.with_name(f"{path.stem}-{n}{path.suffix}")


def sync_folder(folder: Path) -> None:
    """Make the renames in ``folder`` durable (not possible everywhere: then the renames are still atomic).

    Windows cannot open a folder as a file (NTFS makes a rename durable by itself).
    """
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- reading ---------------------------------------------------------------------------------------


def readable_file(path: Path, *, folder: str, missing: str, option: str | None = None) -> int:
    """An input file given on the command line, looked at before it is read: its size in bytes.

    A folder or a missing name is BadInput (``folder`` and ``missing`` say
    what to give instead); any other OSError is os_problem's sentence.
    """
    path = Path(path)
    where = printable(path)
    try:
        if path.is_dir():
            raise BadInput(f"{where} is a folder: {folder}", option)
        if not path.exists():
            raise BadInput(f"{where} does not exist: {missing}", option)
        return path.stat().st_size
    except OSError as error:
        raise os_problem(error, path, option=option, doing="read") from None


# --- writing ---------------------------------------------------------------------------------------


@contextmanager
def temporary_beside(path: Path, *, text: bool, sync: bool) -> Iterator[tuple[IO, Path]]:
    """A private temporary file in ``path``'s folder: yields (handle, its path); removed on failure."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:80]}.", suffix=".part")
    temp = Path(name)
    try:
        _private_fd(fd, temp)
        handle: IO = os.fdopen(fd, "w", encoding="utf-8", newline="") if text else os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        temp.unlink(missing_ok=True)
        raise
    try:
        with handle:
            yield handle, temp
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def place(temp: Path, path: Path, *, replace: bool) -> None:
    """Move ``temp`` to ``path``; unless ``replace``, never over a file that is there (FileExistsError)."""
    if replace:
        os.replace(temp, path)
        return
    link = getattr(os, "link", None)  # missing on some platforms; refused by some disks (FAT, network shares)
    try:
        if link is None:
            raise OSError(errno.EPERM, "no hard links here")
        link(temp, path)  # atomic, and fails when ``path`` exists
    except FileExistsError:
        raise
    except OSError:
        # No hard links here (FAT, some network disks): look first (a tiny race, on disks that cannot do
        # better); Windows' rename would refuse an existing name by itself too.
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, "File exists", str(path)) from None
        os.rename(temp, path)
        return
    temp.unlink(missing_ok=True)


def write_atomically(path: Path, content: bytes | str | Callable[[IO], T], *, replace: bool = True,
                     sync: bool = True, text: bool = False, option: str | None = None,
                     placing: Callable[[T | None], AbstractContextManager] | None = None) -> T | None:
    """Write ``path`` (0600) through a temporary file beside it, so no half file is ever left.

    ``content`` is bytes, a str (written as UTF-8), or a function that writes
    to the open handle (text when ``text``) and returns what this returns.
    With ``replace=False`` an existing file is never written over
    (FileExistsError). An OSError becomes a ThcliError naming the path
    (BadInput naming ``option`` when one is given). ``placing``, given what
    ``content`` returned, is a context entered around the move into place
    (an export's audit row in the same transaction: if either fails, neither
    is kept).
    """
    path = Path(path)
    is_text = text or isinstance(content, str)
    result: T | None = None
    try:
        with temporary_beside(path, text=is_text, sync=sync) as (handle, temp):
            if callable(content):
                result = content(handle)
            else:
                handle.write(content)
        try:
            with placing(result) if placing is not None else nullcontext():
                place(temp, path, replace=replace)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    except FileExistsError:
        raise
    except OSError as error:
        raise os_problem(error, path, option=option) from None
    except ValueError as error:  # a NUL in the name
        if "null" in str(error).lower() or "embedded" in str(error).lower():
            raise _bad_name(path, option) from None
        raise
    return result


def check_writable(path: Path, *, option: str | None = None) -> None:
    """Refuse now, before any work is written, a file that could not be written later.

    The name itself (too long for the disk, a NUL, a file where a folder
    should be) and its folder (missing, or not writable: a temporary file is
    made there and removed) are tried, each OSError as os_problem's sentence.
    """
    path = Path(path)
    try:
        path.lstat()
    except FileNotFoundError:
        pass
    except OSError as error:
        raise os_problem(error, path, option=option) from None
    except ValueError:  # a NUL in the name
        raise _bad_name(path, option) from None
    try:
        fd, probe = tempfile.mkstemp(dir=path.parent, prefix=".thcli-", suffix=".part")
    except OSError as error:
        raise os_problem(error, path, option=option) from None
    os.close(fd)
    os.unlink(probe)


def publish_new(path: Path, content: bytes, *, sync: bool = True, limit: int = 999, option: str | None = None) -> Path:
    """Write ``content`` under ``path``, or ``path-2``, ``path-3``... if taken: never over a file.

    Returns where it went. A path that cannot be written is BadInput naming ``option`` (write_atomically).
    """
    for n in range(1, limit + 1):
        target = numbered(path, n)
        if os.path.lexists(target):
            continue
        try:
            write_atomically(target, content, replace=False, sync=sync, option=option)
            return target
        except FileExistsError:  # made by someone else since we looked: take the next number
            continue
    raise NotAllowed(f"{printable(path.parent)} already holds {limit} files named like {path.name}: "
                     "move some of them away")


# --- writing over an existing file ----------------------------------------------------------------

#: How every plain SQLite database begins (an encrypted one does not).
SQLITE_HEADER = b"SQLite format 3\x00"
#: The files SQLite keeps beside a database while it is used, which hold its data too.
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
#: The files beside a database that belong to it: SQLite's, and thcli's lock and damage note.
SIDE_FILES = (*SQLITE_SIDE_FILES, "-lock", "-damaged")


def sqlite_side_files(path: Path) -> list[Path]:
    """SQLite's files beside the database at ``path`` (whether they exist or not)."""
    return [path.with_name(path.name + suffix) for suffix in SQLITE_SIDE_FILES]


def head(path: Path, size: int = 4096) -> bytes:
    """The first ``size`` bytes of a file (b"" when it cannot be read)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError:
        return b""


def is_docx(path: Path) -> bool:
    """Whether a file is a Word document (a zip holding word/document.xml)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "word/document.xml" in archive.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def belongs_to_database(path: Path, database: Path | None) -> bool:
    """Whether ``path`` is the database or one of its side files (-wal, -shm, -journal, -lock...)."""
    if database is None:
        return False
    database = Path(database)
    for candidate in (database, *(database.with_name(database.name + side) for side in SIDE_FILES)):
        if _same_file(path, candidate) or os.path.abspath(path) == os.path.abspath(candidate):
            return True
    return False


def may_replace(path: Path, *, what: str, is_earlier: Callable[[Path], bool], force: bool,
                database: Path | None = None, option: str | None = None) -> bool:
    """The one rule for writing to a file that may exist (``--out``, ``templates export``, ``db backup``).

    Returns False when ``path`` is new, True when an existing file may be
    replaced: that needs ``force``, and the file must be an earlier ``what``
    (``is_earlier`` recognises one by its content). The database, its side
    files, and any SQLite database other than a backup being replaced by a
    backup are never written over, ``--force`` or not (NotAllowed).
    """
    path = Path(path)
    try:
        if not os.path.lexists(path):
            return False
        if path.is_dir():
            message = f"{printable(path)} is a folder: give a file name inside it"
            raise BadInput(message, option) if option else NotAllowed(message)
        if belongs_to_database(path, database):
            raise NotAllowed(f"{printable(path)} is the thcli database (or one of its files): nothing is ever "
                             "written over it. Choose another name")
        if path.is_symlink() or not path.is_file():
            raise NotAllowed(f"{printable(path)} is not a plain file: choose another name")
        if not force:
            raise NotAllowed(f"{printable(path)} already exists: choose another name, or add --force to replace "
                             f"it (only an earlier {what} is replaced)")
        if not is_earlier(path):
            kind = "a database or a backup" if head(path, 16) == SQLITE_HEADER else "something else"
            raise NotAllowed(f"{printable(path)} is not an earlier {what} (it is {kind}), so it is not replaced, "
                             "even with --force: choose another name")
    except OSError as error:
        raise os_problem(error, path, option=option) from None
    return True


# --- work files beside the database ------------------------------------------------------------------

#: What a work file beside the database is for (the word in its name).
WORK = ("encrypting", "rekeying", "restoring")
_WORK_NAME = re.compile(r"\.(?:" + "|".join(WORK) + r")-[0-9]+(?:-wal|-shm|-journal)?")


def work_file(path: Path, what: str) -> Path:
    """A work file's name beside ``path`` (``.thcli.db.encrypting-1234``): found again if this run is killed."""
    assert what in WORK, what
    return path.with_name(f".{path.name}.{what}-{os.getpid()}")


def remove_work_files(path: Path) -> list[Path]:
    """Remove what killed ``db encrypt``, ``rekey`` or ``restore`` runs left beside ``path``; returns them.

    Call it only with the database locked exclusively (db.exclusive), when no
    other run can be using them.
    """
    prefix = f".{path.name}"
    removed = []
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return []
    for entry in entries:
        name = entry.name
        if name.startswith(prefix) and _WORK_NAME.fullmatch(name[len(prefix):]):
            try:
                entry.unlink()
                removed.append(entry)
            except OSError:
                pass
    return removed
