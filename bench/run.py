"""thcli's benchmark: whole processes, medians, ratios against references run in the same go.

Usage:  python bench/run.py [--cases 100000] [--repeat 15] [--keep] [--check]

It builds a demo database of --cases made-up cases (timed), then times each
command as a whole process, next to a reference measured in the same run:

- a bare two-command Typer app (what any Typer CLI pays to start) for the
  quick commands;
- the sqlite3 command-line shell selecting the same columns, for the export;

and prints the median of each, its ratio to the reference and to the time the
issue allows (where it sets one), the target, and whether it is met. Machines
are noisy: compare ratios, not milliseconds across machines.

Every process runs with its bytecode cached (in the benchmark's folder), as
an installed thcli runs: pip compiles it at install, while an editable
install under PYTHONDONTWRITEBYTECODE=1 would compile thcli from source at
every start, which no coordinator pays. Each command runs once untimed first.

With ``--check`` it exits 1 when any target is missed (and names them), so a
script or CI job can hold the line; without it, it only reports.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE_APP = '''
import typer

app = typer.Typer()


@app.command()
def hello(name: str = "world") -> None:
    print(f"hello {name}")


@app.command()
def bye() -> None:
    print("bye")


if __name__ == "__main__":
    app()
'''


def thcli_command() -> list[str]:
    script = Path(sys.executable).with_name("thcli")
    return [str(script)] if script.exists() else [sys.executable, "-m", "thcli"]


def run(cmd: list[str], env: dict, *, check: bool = True) -> float | None:
    """One run of ``cmd``, in ms; a failure stops the benchmark (or, without ``check``, gives None)."""
    start = time.perf_counter()
    result = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = (time.perf_counter() - start) * 1000
    if result.returncode != 0:
        if not check:
            return None
        raise SystemExit(f"{' '.join(cmd)} failed: {result.stderr.decode()[:500]}")
    return elapsed


def timed(cmd: list[str], repeat: int, env: dict) -> float:
    """The median of ``repeat`` runs, in ms, after one untimed run (bytecode and file caches)."""
    run(cmd, env)
    return statistics.median(run(cmd, env) for _ in range(repeat))


class Table:
    """The results: command, median, ratio to its reference and to the time allowed, target, met."""

    HEADER = ("command", "median", "ratio", "of limit", "target", "met")

    def __init__(self) -> None:
        self.rows: list[tuple[str, ...]] = []
        self.missed: list[str] = []

    def add(self, label: str, ms: float, *, reference: float | None = None, ratio_limit: float | None = None,
            limit_ms: float | None = None, target: str = "") -> None:
        ratio = ms / reference if reference else None
        met = ""
        if ratio_limit is not None or limit_ms is not None:
            ok = (ratio_limit is None or (ratio is not None and ratio <= ratio_limit)) and (
                limit_ms is None or ms < limit_ms)
            met = "yes" if ok else "NO"
            if not ok:
                self.missed.append(f"{label} ({target})")
        shown = f"{ms / 1000:.1f} s" if ms >= 10_000 else f"{ms:.0f} ms"
        self.rows.append((label, shown, f"{ratio:.2f}x" if ratio is not None else "",
                          f"{ms / limit_ms:.2f}x" if limit_ms else "", target, met))

    def print(self) -> None:
        rows = [self.HEADER, *self.rows]
        widths = [max(len(row[i]) for row in rows) for i in range(len(self.HEADER))]
        for row in rows:
            print(f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]:>{widths[3]}}  "
                  f"{row[4]:<{widths[4]}}  {row[5]}".rstrip())
        print("\nratio: to the reference above it (bare Typer app; sqlite3 for the export); "
              "of limit: to the time the target allows.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark folder")
    parser.add_argument("--check", action="store_true", help="exit 1 when any target is missed")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="thcli-bench-"))
    db = work / "bench.db"
    env = {**os.environ, "THCLI_DB": str(db), "THCLI_USER": "bench", "COLUMNS": "160",
           "PYTHONPYCACHEPREFIX": str(work / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    thcli = thcli_command()
    bare = work / "bare_app.py"
    bare.write_text(BARE_APP)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {args.repeat} runs each, medians.\n")
    table = Table()

    run([*thcli, "--version"], env)  # compile thcli's bytecode before the demo is timed
    build = run([*thcli, "demo", "--cases", str(args.cases)], env)
    table.add(f"thcli demo --cases {args.cases}", build, limit_ms=60_000, target="< 60 s")

    from thcli.db import open_db

    conn = open_db(db)
    name = conn.conn.execute(
        "SELECT name FROM clients ORDER BY id LIMIT 1 OFFSET 500").fetchone()[0].split()[-1]
    year = conn.conn.execute("SELECT max(received_on) FROM cases").fetchone()[0][:4]
    conn.close()
    fy = f"{int(year) - 1}/{str(int(year))[2:]}"

    bare_help = timed([sys.executable, str(bare), "--help"], args.repeat, env)
    bare_run = timed([sys.executable, str(bare), "hello"], args.repeat, env)
    table.add("bare Typer app --help", bare_help)
    table.add("bare Typer app hello", bare_run)
    quick = [
        ("thcli --help", ["--help"], bare_help, 1.5, 250, "≤ 1.5x and < 250 ms"),
        ("thcli referral list --status new --limit 50",
         ["referral", "list", "--status", "new", "--limit", "50", "--format", "table"], bare_run, 1.5, 250,
         "≤ 1.5x and < 250 ms"),
        (f"thcli referral list --search {name}", ["referral", "list", "--search", name, "--format", "table"],
         bare_run, 1.5, 250, "≤ 1.5x and < 250 ms"),
        ("thcli due", ["due", "--format", "table"], bare_run, None, 300, "< 300 ms"),
    ]
    for label, argv, reference, ratio_limit, limit_ms, target in quick:
        if _available(thcli, argv, env):
            table.add(label, timed([*thcli, *argv], args.repeat, env), reference=reference,
                      ratio_limit=ratio_limit, limit_ms=limit_ms, target=target)

    if _available(thcli, ["export", "cases"], env) and shutil.which("sqlite3"):
        from thcli.county import CASE_COLUMNS_SQL

        repeat = max(3, args.repeat // 3)
        sql_ms = timed(["sqlite3", "-csv", str(db), CASE_COLUMNS_SQL.format(year=fy)], repeat, env)
        export = [*thcli, "export", "cases", "--year", fy, "--out", str(work / "cases.csv"), "--force"]
        export_ms = timed(export, repeat, env)
        table.add("sqlite3 -csv (same columns)", sql_ms)
        table.add(f"thcli export cases --year {fy}", export_ms, reference=sql_ms, ratio_limit=3,
                  target="≤ 3x sqlite3")

    if _available(thcli, ["letter", "batch"], env):
        # Each run makes letters for the next 500 open cases with none yet (made letters are
        # recorded), into a folder of its own, apart from the demo's letters beside the database.
        # A small demo runs out of such cases: the runs stop there.
        runs, made = [], []
        for number in range(3):
            out = work / f"batch{number}"
            elapsed = run([*thcli, "letter", "batch", "acknowledgement", "--status", "open", "--limit", "500",
                           "--out", str(out)], env, check=False)
            if elapsed is None:
                break
            runs.append(elapsed)
            made.append(len(list(out.glob("*.docx"))))
        if runs:
            table.add(f"thcli letter batch --status open --limit 500 ({min(made)}-{max(made)} letters)",
                      statistics.median(runs), limit_ms=15_000, target="< 15 s")

    print()
    table.print()
    if args.keep:
        print(f"\nKept {work}")
    else:
        shutil.rmtree(work)
    if table.missed:
        print("\nTargets missed:\n" + "\n".join(f"  {missed}" for missed in table.missed))
        if args.check:
            raise SystemExit(1)


def _available(thcli: list[str], argv: list[str], env: dict) -> bool:
    """Whether this build of thcli has the command (the benchmark grows with it)."""
    command = [word for word in argv[:2] if not word.startswith("-")]
    result = subprocess.run([*thcli, *command, "--help"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    return result.returncode == 0


if __name__ == "__main__":
    main()
