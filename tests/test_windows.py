"""thcli as Windows (and macOS) run it: no call that the platform lacks, on any path the main flows take (issue 16).

Each test here runs with what Windows does not have taken away: the POSIX-only
functions of ``os`` (``fchmod`` before Python 3.13, ``getuid``, ``link``,
``sync``, ``statvfs``, ``fork``...), its POSIX-only ``O_*`` flags, the
``fcntl``, ``pwd``, ``grp``, ``termios`` and ``resource`` modules, the signals
Windows lacks, ``sys.platform`` set to ``win32``, and ``os.name`` set to
``nt`` as thcli's own modules see it (not for the standard library, whose
``pathlib`` would then refuse to make a path on this machine). A call that
Windows lacks fails here first, as an AttributeError or an ImportError.

What cannot be simulated (NTFS's refusal to replace an open file, Credential
Manager) is kept out of the way by design: files are closed before they are
replaced, and the keychain is reached through the keyring library only.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import signal
import subprocess
import sys
import sysconfig
import types
from pathlib import Path

import pytest
from freezegun import freeze_time

import thcli
from tests.conftest import referral_args

#: What Windows's ``os`` does not have (the ones a program like thcli could reach for).
POSIX_ONLY_OS = (
    "fchmod", "lchmod", "fchown", "chown", "lchown", "getuid", "geteuid", "getgid", "getegid", "getgroups",
    "setuid", "setgid", "link", "symlink_posix", "sync", "fdatasync", "statvfs", "fstatvfs", "fork", "forkpty",
    "killpg", "getpgid", "setpgid", "setsid", "getsid", "nice", "uname", "getloadavg", "mkfifo", "mknod",
    "openpty", "ttyname", "sysconf", "pathconf", "fpathconf", "posix_fadvise", "posix_fallocate", "sendfile",
    "wait3", "wait4", "getpriority", "setpriority", "sched_getaffinity", "pread", "pwrite", "preadv", "pwritev",
    "O_NOFOLLOW", "O_DIRECTORY", "O_CLOEXEC", "O_NONBLOCK", "O_SYNC", "O_DSYNC", "O_RSYNC", "O_NOCTTY",
    "O_NDELAY", "O_ASYNC", "O_NOATIME", "O_PATH", "O_TMPFILE", "O_EXLOCK", "O_SHLOCK", "O_ACCMODE",
)
POSIX_ONLY_MODULES = ("fcntl", "pwd", "grp", "termios", "resource", "tty", "pty")
POSIX_ONLY_SIGNALS = ("SIGHUP", "SIGKILL", "SIGALRM", "SIGPIPE", "SIGUSR1", "SIGUSR2", "SIGCHLD", "SIGQUIT",
                      "SIGSTOP", "SIGCONT", "SIGTSTP", "alarm", "setitimer", "getitimer", "pause", "siginterrupt",
                      "sigwait", "pthread_kill")
TODAY = "2026-11-20 10:00:00"
#: The libraries that thcli imports lazily (tests/test_layers.py LAZY), and what they import lazily.
LIBRARIES = ("sqlite_utils", "click", "docx", "docxtpl", "jinja2", "lxml", "phonenumbers", "sqlcipher3.dbapi2",
             "questionary", "pydantic", "zoneinfo", "keyring")


class _WindowsOs(types.ModuleType):
    """``os`` as thcli's modules see it on Windows: ``name`` is ``nt``; everything else is the real (reduced) os."""

    def __init__(self) -> None:
        super().__init__("os")
        self.name = "nt"

    def __getattr__(self, attribute: str):
        return getattr(os, attribute)


def _thcli_modules() -> list[types.ModuleType]:
    """Every thcli module, imported (the commands are otherwise imported only when run)."""
    skip = ("thcli.templates.build_templates", "thcli.__main__")
    for info in pkgutil.walk_packages(thcli.__path__, "thcli."):
        if info.name not in skip:
            importlib.import_module(info.name)
    return [module for name, module in sys.modules.items() if name.startswith("thcli") and module is not None]


@pytest.fixture
def windows(monkeypatch):
    """The process as Windows has it, as far as it can be had on this machine."""
    modules = _thcli_modules()
    # The libraries thcli imports when first used, imported now: at import they read sys.platform to pick
    # their Windows parts (msvcrt...), which this machine does not have. Their Windows side is theirs to test.
    for library in LIBRARIES:
        try:
            importlib.import_module(library)
        except ImportError:
            pass
    sysconfig.get_config_vars()  # likewise
    for name in POSIX_ONLY_OS:
        monkeypatch.delattr(os, name, raising=False)
    for name in POSIX_ONLY_MODULES:
        monkeypatch.setitem(sys.modules, name, None)  # `import fcntl` raises ImportError
    for name in POSIX_ONLY_SIGNALS:
        monkeypatch.delattr(signal, name, raising=False)
    monkeypatch.setattr(sys, "platform", "win32")
    windows_os = _WindowsOs()
    for module in modules:
        if getattr(module, "os", None) is os:
            monkeypatch.setattr(module, "os", windows_os)
    monkeypatch.setenv("USERPROFILE", str(Path(os.environ["THCLI_DB"]).parent))
    monkeypatch.setenv("LOCALAPPDATA", str(Path(os.environ["THCLI_DB"]).parent / "AppData" / "Local"))
    yield


def test_the_simulation_takes_away_what_windows_lacks(windows):
    assert not hasattr(os, "fchmod") and not hasattr(os, "getuid") and not hasattr(os, "link")
    assert not hasattr(os, "O_NOFOLLOW") and not hasattr(signal, "SIGKILL")
    with pytest.raises(ImportError):
        import fcntl  # noqa: F401
    from thcli import files

    assert sys.platform == "win32" and files.os.name == "nt" and not files.posix_modes()


def test_the_main_flows_run_without_posix(windows, cli, tmp_path):
    """init, referral add, letter make, export, person export, backup, restore, retention, db check."""
    with freeze_time("2019-03-01 09:30:00"):
        assert cli("init", "--scheme", "Windows Vale Scheme", "--code", "windows_vale", "--prefix", "WV",
                   "--district", "northmoor:Northmoor").exit_code == 0
        old = cli("referral", "add", *referral_args(**{"--received": "2019-03-01", "--name": "Old Example"}))
        assert old.exit_code == 0, old.stderr
        assert cli("referral", "move", "WV-2019-0001", "declined", "--reason", "out_of_area").exit_code == 0
    with freeze_time(TODAY):
        added = cli("referral", "add", *referral_args(**{"--referrer": "Jo Idvaexample",
                                                         "--referrer-email": "idva@example.org"}))
        assert added.exit_code == 0, added.stderr
        letter = cli("letter", "make", "WV-2026-0001", "acknowledgement")
        assert letter.exit_code == 0, letter.stderr
        letters = list((tmp_path / "letters").iterdir())
        assert [p.suffix for p in letters] == [".docx"]
        assert cli("export", "cases", "--year", "2026/27", "--out", tmp_path / "cases.csv").exit_code == 0
        assert cli("export", "summary", "--year", "2026/27", "--out", tmp_path / "summary.csv").exit_code == 0
        person = cli("person", "export", "WV-2026-0001", "--out", tmp_path / "sar")
        assert person.exit_code == 0, person.stderr
        backup = cli("db", "backup", tmp_path / "backup.db")
        assert backup.exit_code == 0, backup.stderr
        assert cli("referral", "note", "WV-2026-0001", "After the backup").exit_code == 0
        restored = cli("db", "restore", tmp_path / "backup.db", "--yes")
        assert restored.exit_code == 0, restored.stderr
        assert "After the backup" not in cli("referral", "show", "WV-2026-0001", "--format", "json").stdout
        review = cli.json("retention", "review")
        assert [row["ref"] for row in review] == ["WV-2019-0001"]
        applied = cli("retention", "apply", "--yes")
        assert applied.exit_code == 0, applied.stderr
        assert "Anonymised 1 case: WV-2019-0001" in applied.stdout
        check = cli("db", "check")
        assert check.exit_code == 0, check.stdout
    assert (f"ok    permissions: Windows has no owner-only files: the database and its letters are in your user "
            f"profile ({tmp_path}), which only you and the administrators can open") in check.stdout.splitlines()
    for written in [*letters, tmp_path / "cases.csv", tmp_path / "backup.db"]:
        assert written.exists()


def test_outside_the_profile_db_check_says_what_protects_the_file(windows, cli, db, monkeypatch, tmp_path):
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "somewhere-else"))
    result = cli("db", "check")
    assert result.exit_code == 0
    assert (f"warn  permissions: {tmp_path / 'thcli.db'} is outside your user profile, and Windows has no owner-only "
            "files: anyone who can open its folder can copy it. Move it into your profile (thcli's default is "
            "%LOCALAPPDATA%\\thcli), or check who can open the folder") in result.stdout.splitlines()


def test_an_encrypted_database_works_without_posix(windows, cli, db, monkeypatch):
    pytest.importorskip("sqlcipher3")
    assert cli("referral", "add", *referral_args()).exit_code == 0
    db.close()  # db encrypt waits for every other connection to the database
    monkeypatch.setenv("THCLI_KEY", "a windows passphrase")
    encrypted = cli("db", "encrypt")
    assert encrypted.exit_code == 0, encrypted.stderr
    assert cli.json("referral", "list")[0]["ref"] == "TH-2026-0001"


def test_a_file_is_placed_without_hard_links(windows, tmp_path):
    from thcli import files

    target = tmp_path / "letter.docx"
    files.write_atomically(target, b"one", replace=False)
    with pytest.raises(FileExistsError):
        files.write_atomically(target, b"two", replace=False)
    assert target.read_bytes() == b"one"
    assert files.publish_new(target, b"two") == tmp_path / "letter-2.docx"


def test_the_default_database_is_in_the_local_app_folder_not_the_roaming_one(monkeypatch):
    import typer

    from thcli.commands import _common

    asked = {}

    def get_app_dir(name, roaming=True, force_posix=False):
        asked["roaming"] = roaming
        return "/local/thcli"

    monkeypatch.delenv("THCLI_DB")
    monkeypatch.setattr(typer, "get_app_dir", get_app_dir)
    assert _common.default_db_path() == Path("/local/thcli/thcli.db")
    assert asked == {"roaming": False}


def test_output_to_a_file_or_pipe_is_utf8_whatever_the_code_page(tmp_path):
    import io

    from thcli.cli import utf8_output

    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp1252")
    utf8_output([stream])
    stream.write("─ Łucja Zoë £5\n")
    stream.flush()
    assert raw.getvalue().decode("utf-8") == "─ Łucja Zoë £5\n"


def test_no_file_in_the_repository_is_a_symlink():
    """A Windows checkout without symlinks would turn one into a text file holding its target."""
    root = Path(__file__).resolve().parent.parent
    try:
        listed = subprocess.run(["git", "ls-files", "-s"], cwd=root, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    links = [line.split("\t", 1)[1] for line in listed.stdout.splitlines() if line.startswith("120000")]
    assert links == []
    assert (root / "thcli" / "schema.sql").read_text(encoding="utf-8").lstrip().startswith("--")
