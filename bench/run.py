"""thcli's benchmark: whole processes, medians, ratios against references run in the same go.

Usage:  python bench/run.py [--cases 100000] [--repeat 15] [--keep]

It builds a demo database of --cases made-up cases (timed), then times each
command as a whole process, next to a reference measured in the same run:

- a bare two-command Typer app (what any Typer CLI pays to start) for the
  quick commands;
- the sqlite3 command-line shell selecting the same columns, for the export;

and prints the median of each, the ratio, and the issue's target. Machines
are noisy: compare ratios, not milliseconds across machines.
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


def timed(cmd: list[str], repeat: int, env: dict, cwd: Path | None = None) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
        times.append((time.perf_counter() - start) * 1000)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {result.stderr.decode()[:500]}")
    return statistics.median(times), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="thcli-bench-"))
    db = work / "bench.db"
    env = {**os.environ, "THCLI_DB": str(db), "THCLI_USER": "bench", "COLUMNS": "160"}
    thcli = thcli_command()
    bare = work / "bare_app.py"
    bare.write_text(BARE_APP)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {args.repeat} runs each, medians.\n")

    start = time.perf_counter()
    subprocess.run([*thcli, "demo", "--cases", str(args.cases)], env=env, check=True, stdout=subprocess.DEVNULL)
    build = time.perf_counter() - start
    print(f"thcli demo --cases {args.cases}: {build:.1f} s (target: under 60 s)\n")

    from thcli.db import open_db

    conn = open_db(db)
    name = conn.conn.execute(
        "SELECT name FROM clients ORDER BY id LIMIT 1 OFFSET 500").fetchone()[0].split()[-1]
    year = conn.conn.execute("SELECT max(received_on) FROM cases").fetchone()[0][:4]
    conn.close()
    fy = f"{int(year) - 1}/{str(int(year))[2:]}"

    rows = []
    bare_help, _ = timed([sys.executable, str(bare), "--help"], args.repeat, env)
    bare_run, _ = timed([sys.executable, str(bare), "hello"], args.repeat, env)
    rows.append(("bare Typer app --help", bare_help, None, ""))
    rows.append(("bare Typer app hello", bare_run, None, ""))
    quick = [
        ("thcli --help", ["--help"], bare_help, "≤ 1.5x and < 250 ms"),
        ("thcli referral list --status new --limit 50", ["referral", "list", "--status", "new", "--limit", "50",
                                                          "--format", "table"], bare_run, "≤ 1.5x and < 250 ms"),
        (f"thcli referral list --search {name}", ["referral", "list", "--search", name, "--format", "table"],
         bare_run, "≤ 1.5x and < 250 ms"),
        ("thcli due", ["due", "--format", "table"], bare_run, "< 300 ms"),
    ]
    for label, argv, reference, target in quick:
        if not _available(thcli, argv, env):
            continue
        median, _ = timed([*thcli, *argv], args.repeat, env)
        rows.append((label, median, median / reference, target))

    if _available(thcli, ["export", "cases", "--year", fy, "--out", str(work / "x.csv")], env) and shutil.which(
            "sqlite3"):
        from thcli.county import CASE_COLUMNS_SQL

        export_ms, _ = timed([*thcli, "export", "cases", "--year", fy, "--out", str(work / "cases.csv")],
                             max(3, args.repeat // 3), env)
        sql_ms, _ = timed(["sqlite3", "-csv", str(db), CASE_COLUMNS_SQL.format(year=fy)],
                          max(3, args.repeat // 3), env)
        rows.append(("sqlite3 -csv (same columns)", sql_ms, None, ""))
        rows.append((f"thcli export cases --year {fy}", export_ms, export_ms / sql_ms, "≤ 3x sqlite3"))

    if _available(thcli, ["letter", "templates", "list"], env):
        letters = work / "letters"
        start = time.perf_counter()
        subprocess.run([*thcli, "letter", "batch", "acknowledgement", "--status", "new", "--limit", "500",
                        "--out", str(letters)], env=env, check=True, stdout=subprocess.DEVNULL)
        batch = (time.perf_counter() - start) * 1000
        made = len(list(letters.glob("*.docx")))
        rows.append((f"thcli letter batch ({made} letters)", batch, None, "< 15 s for 500"))

    width = max(len(r[0]) for r in rows) + 2
    print(f"{'command':<{width}}{'median':>10}{'ratio':>8}   target")
    for label, median, ratio, target in rows:
        ratio_text = f"{ratio:.2f}x" if ratio else ""
        print(f"{label:<{width}}{median:>8.0f}ms{ratio_text:>8}   {target}")
    if args.keep:
        print(f"\nKept {work}")
    else:
        shutil.rmtree(work)


def _available(thcli: list[str], argv: list[str], env: dict) -> bool:
    """Whether this build of thcli has the command (the benchmark grows with it)."""
    result = subprocess.run([*thcli, *argv[:2], "--help"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    return result.returncode == 0


if __name__ == "__main__":
    main()
