"""mypy's errors may only go down: compare today's count per file with `mypy-baseline.txt`.

    python scripts/typecheck.py            # exit 1 when a file has more errors than its baseline
    python scripts/typecheck.py --update   # write today's counts as the new baseline

mypy reads its settings from pyproject.toml ([tool.mypy], with the django-stubs plugin, which
imports the test settings but opens no connection: no database or Redis needs to answer).
A file with more errors than the baseline allows fails the check, and its new errors are shown.
Fewer errors than the baseline also fails, asking for `--update`, so that the baseline stays
exact and an error fixed cannot quietly come back.
"""

import argparse
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
BASELINE = BASE_DIR / "mypy-baseline.txt"
HEADER = (
    "# mypy errors per file that `make test` still tolerates; the counts may only go down.\n"
    "# Regenerate with `python scripts/typecheck.py --update` after fixing some.\n"
)
ERROR_LINE = re.compile(r"^(?P<path>[^:\s][^:]*):\d+(?::\d+)?: error: ")


@dataclass(frozen=True)
class Comparison:
    """Today's counts against the baseline's, file by file."""

    grown: dict[str, tuple[int, int]]  # path -> (allowed, found)
    shrunk: dict[str, tuple[int, int]]
    allowed_total: int
    found_total: int


def errors_per_file(output: str) -> Counter[str]:
    """Count mypy's `error:` lines per file (notes and the summary line are not errors)."""
    counts: Counter[str] = Counter()
    for line in output.splitlines():
        match = ERROR_LINE.match(line)
        if match:
            counts[match["path"]] += 1
    return counts


def baseline_read(path: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    if not path.exists():
        return counts
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        file, _, count = line.rpartition(" ")
        counts[file.strip()] = int(count)
    return counts


def baseline_write(path: Path, counts: Counter[str]) -> None:
    lines = [f"{file} {count}" for file, count in sorted(counts.items()) if count]
    path.write_text(HEADER + "".join(f"{line}\n" for line in lines))


def compare(allowed: Counter[str], found: Counter[str]) -> Comparison:
    files = set(allowed) | set(found)
    grown = {f: (allowed[f], found[f]) for f in sorted(files) if found[f] > allowed[f]}
    shrunk = {f: (allowed[f], found[f]) for f in sorted(files) if found[f] < allowed[f]}
    return Comparison(grown, shrunk, sum(allowed.values()), sum(found.values()))


def mypy_run(paths: Iterable[str]) -> tuple[int, str]:
    """Run mypy from the project's root (where its settings are) and return its exit status and
    output. The test settings it imports give the database and Redis addresses defaults."""
    run = subprocess.run(
        [sys.executable, "-m", "mypy", *paths],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    return run.returncode, run.stdout + run.stderr


def _say(*lines: str) -> None:
    print("\n".join(lines), file=sys.stderr)


def _changes(files: dict[str, tuple[int, int]]) -> list[str]:
    return [f"  {file}: {was} -> {now}" for file, (was, now) in files.items()]


def report(result: Comparison, output: str, baseline: Path) -> int:
    """Say what changed against the baseline; the exit status for `make test`."""
    name = baseline.name
    found, allowed = result.found_total, result.allowed_total
    update = "`python scripts/typecheck.py --update`"
    if result.grown:
        _say(f"mypy: more errors than {name} allows ({found} now, {allowed} allowed).")
        _say("Files that grew:", *_changes(result.grown))
        _say("", "Their errors:")
        for line in output.splitlines():
            match = ERROR_LINE.match(line)
            if match and match["path"] in result.grown:
                _say(f"  {line}")
        if found <= allowed:
            _say("", "The total did not grow: if code only moved between files, record where the")
            _say(f"errors now are with {update}.")
        return 1
    if result.shrunk:
        _say(f"mypy: fewer errors than {name} records ({found} now, {allowed} recorded): well")
        _say(f"done. Lower the baseline so that they stay fixed: {update}, and commit {name}.")
        _say(*_changes(result.shrunk))
        return 1
    print(f"mypy: {found} errors, as many as {name} records.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="write today's counts as baseline")
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument("paths", nargs="*", help="what mypy checks (default: pyproject's files)")
    args = parser.parse_args(argv)
    status, output = mypy_run(args.paths)
    if status not in (0, 1) or not re.search(r"^(Success|Found \d+ error)", output, re.M):
        print(f"mypy did not finish its check (exit status {status}):\n{output}", file=sys.stderr)
        return 2
    found = errors_per_file(output)
    if args.update:
        baseline_write(args.baseline, found)
        total = sum(found.values())
        print(f"mypy: {total} errors in {len(found)} files written to {args.baseline.name}.")
        return 0
    return report(compare(baseline_read(args.baseline), found), output, args.baseline)


if __name__ == "__main__":
    sys.exit(main())
