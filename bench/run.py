"""thcli's benchmark: whole processes, medians, ratios against references run in the same go.

Usage:  python bench/run.py [--cases 100000] [--repeat 15] [--keep] [--check] [--only county]

It builds a demo database of --cases made-up cases (timed), then times each
command as a whole process, next to a reference measured in the same run:

- a bare two-command Typer app (what any Typer CLI pays to start) for the
  quick commands;
- the sqlite3 command-line shell selecting the same columns, for the export;
- Python's csv module reading the same files, for ``county combine`` of a
  made-up county (7 districts, 10 years, about 50,000 case rows, written
  here); with it, each process's peak memory (max RSS, where the platform
  reports it) for that county and for one a tenth of its size, to show that
  combining streams the files (memory flat in the rows).

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
import csv
import hashlib
import os
import random
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
    parser.add_argument("--only", choices=["county"], help="run only this part (county: the combine)")
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
    if args.only == "county":
        county_combine(table, thcli, work, env, args.repeat)
        _finish(table, args, work)
        return
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
        # --force: every run after the first replaces the extract the one before wrote.
        export_ms = timed([*thcli, "export", "cases", "--year", fy, "--out", str(work / "cases.csv"), "--force"],
                          repeat, env)
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

    county_combine(table, thcli, work, env, args.repeat)
    _finish(table, args, work)


def _finish(table: Table, args, work: Path) -> None:
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


# --- county combine (issue 17) -------------------------------------------------------------------------

#: Reads every file with the csv module and nothing else: what any reader of these files pays.
CSV_READER = """
import csv, sys
rows = 0
for name in sys.argv[1:]:
    with open(name, encoding="utf-8-sig", newline="") as handle:
        for row in csv.reader(handle):
            rows += 1
print(rows)
"""

#: Runs a command and prints its peak memory in kB (ru_maxrss of its child: kB on Linux, bytes on macOS).
PEAK = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(peak // 1024 if sys.platform == "darwin" else peak)
"""


def county_files(folder: Path, *, districts: int = 7, years: int = 10, rows: int = 50_000,
                 seed: int = 17) -> list[Path]:
    """A made-up county: each district's case extract and summary for ten financial years (2016/17 to 2025/26).

    Survivors are keyed on a shared county key, and about one in fifty is
    referred in a second district, as a real county's files would have them.
    """
    from thcli.county import CASE_COLUMNS, SUMMARY_COLUMNS

    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    months = [f"{2016 + (m + 3) // 12:04d}-{(m + 3) % 12 + 1:02d}" for m in range(12 * years)]
    label = f"2016-04-01/{2016 + years:04d}-03-31"
    routes = ["self", "marac", "police", "idva", "court", "housing", "social_care", "health", "other_professional"]
    statuses = ["open", "completed", "completed", "completed", "declined", "withdrawn", "no_contact"]
    paths = []
    per_district = rows // districts
    for number in range(districts):
        scheme = f"district_{number + 1}"
        extract = folder / f"{scheme}-cases.csv"
        with open(extract, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(CASE_COLUMNS)
            for row in range(per_district):
                person = rng.randrange(per_district * districts) if rng.random() < 0.02 else number * 10**6 + row
                fitted = rng.random() < 0.7
                cost = rng.randint(50, 2500) if fitted else 0
                writer.writerow([
                    "thcli-county-2", scheme, scheme, hashlib.sha256(f"c{number}-{row}".encode()).hexdigest()[:16],
                    hashlib.sha256(f"p{person}".encode()).hexdigest()[:16], "county", rng.choice(months),
                    rng.choice(routes), rng.choice(["standard", "medium", "high"]), "no", "no",
                    "yes" if rng.random() < 0.06 else "no",
                    rng.choice(["owner", "private_rented", "council", "housing_association"]), 1, rng.randint(0, 3),
                    "25-34", "woman", "white", "no", "no", "no", "no", "no", "no", rng.choice(statuses), "",
                    rng.randint(1, 12), rng.randint(3, 30) if fitted else "",
                    rng.choice(["yes", "no"]) if fitted else "pending",
                    "door_alarm;window_alarm" if fitted else "", f"{cost}.00", "0.00", "opcc" if cost else "", ""])
        summary = folder / f"{scheme}-summary.csv"
        with open(summary, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(SUMMARY_COLUMNS)
            writer.writerow(["thcli-county-2", scheme, label, "referrals", "all", "all", per_district])
        paths += [extract, summary]
    return paths


def _peak_kb(cmd: list[str], env: dict) -> int | None:
    """The peak memory of one run of ``cmd`` in kB, where the platform reports it (None elsewhere)."""
    try:
        import resource  # noqa: F401  (POSIX only)
    except ImportError:
        return None
    result = subprocess.run([sys.executable, "-c", PEAK, *cmd], env=env, capture_output=True, text=True)
    return int(result.stdout.strip()) if result.returncode == 0 else None


def county_combine(table: Table, thcli: list[str], work: Path, env: dict, repeat: int) -> None:
    """``thcli county combine`` of a 7-district, 10-year county against the csv module reading the same files."""
    if not _available(thcli, ["county", "combine"], env):
        return
    big = county_files(work / "county")
    small = county_files(work / "county-small", rows=5_000)
    rows = sum(1 for path in big if path.name.endswith("-cases.csv") for _ in open(path, "rb")) - 7
    repeat = max(3, repeat // 3)
    reader = [sys.executable, "-c", CSV_READER, *map(str, big)]
    combine = [*thcli, "county", "combine", *map(str, big), "--out", str(work / "figures"), "--force"]
    reference = timed(reader, repeat, env)
    combined = timed(combine, repeat, env)
    table.add(f"csv module reading the same files ({rows:,} rows)", reference)
    table.add("thcli county combine (7 districts, 10 years)", combined, reference=reference, limit_ms=10_000,
              target="< 10 s")
    small_peak = _peak_kb([*thcli, "county", "combine", *map(str, small), "--out", str(work / "figures-small"),
                           "--force"], env)
    big_peak = _peak_kb(combine, env)
    if small_peak and big_peak:
        table.add(f"  peak memory: {small_peak / 1024:.0f} MB for a tenth of the rows, {big_peak / 1024:.0f} MB for "
                  "all (max RSS)", 0)
        table.rows[-1] = (table.rows[-1][0], "", "", "", "", "")


def _available(thcli: list[str], argv: list[str], env: dict) -> bool:
    """Whether this build of thcli has the command (the benchmark grows with it)."""
    command = [word for word in argv[:2] if not word.startswith("-")]
    result = subprocess.run([*thcli, *command, "--help"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    return result.returncode == 0


if __name__ == "__main__":
    main()
