"""No traceback, ever (issue 12, item 8): every leaf command and option, walked with bad values.

The commands come from the CLI itself (the Typer/click tree), so a new
command or option is covered without editing this file. Each option and
argument in turn gets text that is not UTF-8, a huge value, an empty value,
control characters, and (where it names a file or folder) paths that cannot
be used: too long, under a file, in a folder without write permission, a
folder, the database itself. Every run must end with exit 1 or 2 and one line
on stderr saying what was wrong, never a traceback; exit 0 only where the
value is legitimately accepted, and each such case is listed in ACCEPTED.

In-process (CliRunner) on a copy of one template database, a bounded number
of cases: a few seconds.
"""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import referral_args
from tests.test_meta import all_commands
from thcli.cli import app

#: The bad values every option and argument gets.
BAD = {
    "bytes": "EV-\udcff\udcfe",                   # what Python makes of bytes that are not UTF-8
    "huge": "A" * 100_000,
    "empty": "",
    "control": "\x1b[2J\x07x\x00y",
}
#: What a file or folder option also gets (made under the test's folder).
BAD_PATHS = ("too long", "under a file", "no permission", "a folder", "the database")
#: root may write anywhere: a folder without write permission cannot be made for it.
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

#: (command, parameter, bad value) that exit 0 because the value is fine there; anything else must fail.
ACCEPTED: set[tuple[str, str, str]] = {
    ("db backup", "dest", "a folder"),                   # a dated backup in that folder
    ("letter make", "out_dir", "a folder"),              # the letter in that folder
    ("letter batch", "out_dir", "a folder"),             # the letters in that folder
    ("letter templates export", "dest", "a folder"),     # KIND.docx in that folder
    ("person export", "out_dir", "a folder"),            # the two files in that folder
    ("county combine", "out_dir", "a folder"),           # the county figures in that folder
    ("demo", "county", "a folder"),                      # the county demo in that folder
}

#: Good values for the arguments and required options of each command, by parameter name.
FILL = {
    "ref": "TH-2026-0001", "kind": "acknowledgement", "list_name": "route", "code": "walk_in", "label": "Walk-in",
    "status": "triage", "text": "a note", "key": "scheme_name", "value": "Example Scheme", "entry": "1",
    "item": "door_alarm", "quantity": "1", "line": "1", "lines": "1", "name": "Example Fund", "holder": "idva",
    "surveyor": "police_cro", "date": "2026-11-19", "fund": "example_opcc_2026_27", "contractor": "acme",
    "reason": "moved_away", "outcome": "completed", "contributor": "survivor", "amount": "10", "year": "2026/27",
    "source": "opcc", "scope": "police", "permission": "granted", "measure": "door_alarm", "invoice": "INV-1",
    "from_": "survivor", "fund_text": "example_opcc_2026_27", "district": "northmoor", "route": "idva",
    "risk": "high", "postcode": "ZZ1 2AB",
}


def leaf_commands() -> list[tuple[list[str], object]]:
    """(path, click command) of every leaf command, from the CLI itself (test_meta walks the groups)."""
    return [(path, command) for path, command in all_commands() if not hasattr(command, "get_command")]


#: What else a command needs to get past its first check, so that a bad value reaches deep code.
EXTRA = {
    "export cases": ["--year", "2026/27"], "export summary": ["--year", "2026/27"],
    "report summary": ["--year", "2026/27"], "letter make": ["--to", "referrer"], "db restore": ["--yes"],
    "retention apply": ["--yes"], "county combine": ["--year", "2026/27"], "report board": ["--year", "2026/27"],
}


def _is_path(param) -> bool:
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    return annotation is Path or "Path" in str(annotation)


def _good_path(name: str, param, folder: Path, template: Path) -> str:
    """A file or folder the command can use."""
    if name.startswith("county ") or name == "report board":  # issue 17: its own kinds of file
        return _county_path(name, param, folder, template)
    if param.name == "src":
        return str(template.with_name("backup.db"))
    if param.name == "file":
        return str(template.with_name("template.docx"))
    if param.name == "dest":
        return str(folder / ("b.db" if name == "db backup" else "t.docx"))
    if param.name == "out_file":
        return str(folder / f"{name.replace(' ', '-')}.csv")
    return str(folder / "out")


_FRESH = itertools.count()


def _county_path(name: str, param, folder: Path, template: Path) -> str:
    if name == "county key use":
        return str(template.with_name("county.key"))
    if name == "county combine" and param.name == "files":
        return str(template.with_name("district-cases.csv"))
    if param.name == "report" or name == "report board":
        return str(folder / f"{name.replace(' ', '-')}.docx")
    if name == "county combine":
        return str(folder / f"figures-{next(_FRESH)}")  # a new folder each run: never over earlier figures
    return str(folder / "county.key")


def _invocation(name, path, command, target, value, folder, template) -> list[str]:
    """The command line with ``target`` given ``value`` and the other required parameters filled in."""
    args = [*path]
    options = list(EXTRA.get(name, [])) if target is None or target.opts[0] not in EXTRA.get(name, []) else []
    for param in command.params:
        if param.name == "help" or param.param_type_name == "argument" and param is not target and not param.required:
            continue
        good = _good_path(name, param, folder, template) if _is_path(param) else FILL.get(param.name, "1")
        if param.param_type_name == "argument":
            args.append(value if param is target else good)
        elif param is target:
            options += [param.opts[0], value]
        elif param.required:
            options += [param.opts[0], good]
    return args + options


def _bad_path(kind: str, folder: Path, db_path: Path) -> str:
    if kind == "too long":
        return str(folder / ("a" * 300))
    if kind == "under a file":
        return str(folder / "a-file" / "x.docx")
    if kind == "no permission":
        return str(folder / "locked" / "x.docx")
    if kind == "a folder":
        return str(folder / "a-folder")
    return str(db_path)


def _cases():
    for path, command in leaf_commands():
        for param in command.params:
            if param.name == "help" or getattr(param, "is_flag", False):
                continue
            kinds = [*BAD] + ([k for k in BAD_PATHS if k != "no permission" or not AS_ROOT] if _is_path(param) else [])
            for kind in kinds:
                yield " ".join(path), path, command, param, kind


CASES = list(_cases())


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """One scheme database with a case, a fund and a contractor, made once and copied for each command."""
    from typer.testing import CliRunner

    folder = tmp_path_factory.mktemp("template")
    path = folder / "thcli.db"
    runner = CliRunner()
    env = {"THCLI_DB": str(path), "THCLI_USER": "fuzz.tester"}
    for args in (["init", "--district", "northmoor:Northmoor"],
                 ["referral", "add", *referral_args(**{"--referrer": "Jo Referrer", "--referrer-org": "Example IDVA",
                                                       "--referrer-email": "jo@example.org"})],
                 ["budget", "fund", "add", "Example OPCC", "--year", "2026/27", "--source", "opcc", "--amount", "5000"],
                 ["codes", "add", "contractor", "acme", "Acme Locks"],
                 ["letter", "templates", "export", "acknowledgement", str(folder / "template.docx")],
                 ["db", "backup", str(folder / "backup.db")],
                 ["county", "key", "new", "--out", str(folder / "county.key")],
                 ["export", "cases", "--year", "2026/27", "--out", str(folder / "district-cases.csv")]):
        result = runner.invoke(app, args, env=env, catch_exceptions=False)
        assert result.exit_code == 0, (args, result.stderr)
    return path


def _fresh_copy(template: Path, db_path: Path) -> None:
    for side in ("", "-wal", "-shm", "-damaged"):
        db_path.with_name(db_path.name + side).unlink(missing_ok=True)
    shutil.copyfile(template, db_path)


def test_every_file_and_folder_parameter_works_with_a_good_path(template, tmp_path, monkeypatch, cli):
    """The walk reaches the code that writes or reads each path: with a good one, each command succeeds."""
    db_path = tmp_path / "thcli.db"
    monkeypatch.setenv("THCLI_DB", str(db_path))
    monkeypatch.chdir(tmp_path)
    failures = []
    for path, command in leaf_commands():
        name = " ".join(path)
        for param in command.params:
            if _is_path(param):
                _fresh_copy(template, db_path)
                args = _invocation(name, path, command, param, _good_path(name, param, tmp_path, template),
                                   tmp_path, template)
                result = cli(*args)
                if result.exit_code != 0:
                    failures.append(f"{name} {param.name}: {result.stderr.strip()}")
    assert failures == []


def test_the_walk_covers_every_leaf_command_and_is_bounded():
    commands = {name for name, *_ in CASES}
    leaves = {" ".join(p) for p, c in leaf_commands() if [q for q in c.params if q.name != "help"
                                                          and not getattr(q, "is_flag", False)]}
    assert commands == leaves
    assert 500 < len(CASES) < 2500


@pytest.mark.parametrize("group", sorted({name.split()[0] for name, *_ in CASES}))
def test_bad_values_give_one_line_and_exit_1_or_2_never_a_traceback(group, template, tmp_path, monkeypatch, cli):
    db_path = tmp_path / "thcli.db"
    (tmp_path / "a-file").write_text("a file, not a folder")
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "locked").mkdir(mode=0o500)
    monkeypatch.setenv("THCLI_DB", str(db_path))
    monkeypatch.setenv("THCLI_BUSY_TIMEOUT_MS", "200")
    monkeypatch.chdir(tmp_path)  # whatever a case writes "here" stays in the test's folder
    problems, accepted = [], set()
    copied_for = None
    for name, path, command, param, kind in CASES:
        if name.split()[0] != group:
            continue
        if copied_for != name:  # a fresh copy for each command
            _fresh_copy(template, db_path)
            copied_for = name
        value = BAD[kind] if kind in BAD else _bad_path(kind, tmp_path, db_path)
        args = _invocation(name, path, command, param, value, tmp_path, template)
        result = cli(*args)
        where = f"{name} {param.name} ({kind})"
        output = result.stdout + result.stderr
        if os.environ.get("FUZZ_ALL"):
            with open(os.environ["FUZZ_ALL"], "a") as dump:
                dump.write(f"{where}: {result.exit_code} {result.stderr.strip()[:150]!r}\n")
        if "Traceback" in output or "unexpected problem" in output:
            problems.append(f"{where}: {result.stderr.strip()[:200]}")
        elif result.exit_code == 0:
            accepted.add((name, param.name, kind))
        elif result.exit_code not in (1, 2):
            problems.append(f"{where}: exit {result.exit_code}")
        elif not (result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1):
            problems.append(f"{where}: not one line: {result.stderr[:200]!r}")
    os.chmod(tmp_path / "locked", 0o700)
    if os.environ.get("FUZZ_DUMP"):
        with open(os.environ["FUZZ_DUMP"], "a") as dump:
            dump.write("\n".join(problems + [repr(a) for a in sorted(accepted)]) + "\n")
    assert problems == []
    assert accepted == {a for a in ACCEPTED if a[0].split()[0] == group}


@pytest.mark.parametrize("kind", [*BAD, *[k for k in BAD_PATHS if k != "no permission" or not AS_ROOT]])
def test_bad_global_options_and_variables_give_one_line_never_a_traceback(kind, template, tmp_path, monkeypatch,
                                                                        cli):
    db_path = tmp_path / "thcli.db"
    _fresh_copy(template, db_path)
    (tmp_path / "a-file").write_text("a file, not a folder")
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "locked").mkdir(mode=0o500)
    monkeypatch.setenv("THCLI_DB", str(db_path))
    monkeypatch.chdir(tmp_path)
    value = BAD[kind] if kind in BAD else _bad_path(kind, tmp_path, db_path)
    runs = {"--db": lambda: cli("--db", value, "referral", "list", "--format", "json")}
    if kind in BAD:
        runs["--as"] = lambda: cli("--as", value, "referral", "list", "--format", "json")
        for variable in ("THCLI_USER", "THCLI_KEY", "THCLI_DB"):
            def run(variable=variable):
                with monkeypatch.context() as env:
                    env.setenv(variable, value.replace("\x00", ""))
                    return cli("referral", "list", "--format", "json")
            runs[variable] = run
    outcomes = {}
    for where, run in runs.items():
        result = run()
        output = result.stdout + result.stderr
        assert "Traceback" not in output and "unexpected problem" not in output, (where, output[:300])
        if result.exit_code:
            assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, (where, result.stderr)
        outcomes[where] = result.exit_code
    os.chmod(tmp_path / "locked", 0o700)
    # A key set for a plain database is not used; an empty THCLI_USER or THCLI_KEY is the same as none.
    fine = {("THCLI_KEY", k) for k in ("huge", "empty", "control")} | {("THCLI_USER", "empty"),
                                                                       ("--db", "the database")}
    assert {w for w, code in outcomes.items() if code == 0} == {w for w, k in fine if k == kind}
