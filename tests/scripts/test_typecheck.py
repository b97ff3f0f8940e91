"""mypy's baseline (scripts/typecheck.py): a file with more errors than the baseline allows fails
the check and is named; fewer asks for the baseline to be lowered; the project's count holds."""

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(BASE_DIR / "scripts"))

import typecheck  # noqa: E402

TYPECHECK = [sys.executable, str(BASE_DIR / "scripts" / "typecheck.py")]

OUTPUT = """\
orders/a.py:3: error: Item "None" of "Shop | None" has no attribute "slug"  [union-attr]
orders/a.py:3: note: See https://mypy.readthedocs.io
orders/a.py:9:5: error: Missing return statement  [return]
returns/b.py:1: error: Name "x" is not defined  [name-defined]
Found 3 errors in 2 files (checked 2 source files)
"""


def _typecheck(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [*TYPECHECK, *args], cwd=BASE_DIR, capture_output=True, text=True, timeout=300, env=env
    )


def test_errors_per_file_counts_errors_not_notes():
    assert typecheck.errors_per_file(OUTPUT) == Counter({"orders/a.py": 2, "returns/b.py": 1})


def test_baseline_round_trip_keeps_counts(tmp_path):
    path = tmp_path / "baseline.txt"
    counts = Counter({"orders/a.py": 2, "returns/b.py": 1, "gone.py": 0})

    typecheck.baseline_write(path, counts)

    assert typecheck.baseline_read(path) == Counter({"orders/a.py": 2, "returns/b.py": 1})
    assert "gone.py" not in path.read_text()


def test_compare_names_the_files_that_grew_even_when_the_total_did_not():
    allowed = Counter({"orders/a.py": 1, "returns/b.py": 3})
    found = Counter({"orders/a.py": 2, "returns/b.py": 1, "new.py": 1})

    result = typecheck.compare(allowed, found)

    assert result.grown == {"orders/a.py": (1, 2), "new.py": (0, 1)}
    assert result.shrunk == {"returns/b.py": (3, 1)}
    assert (result.allowed_total, result.found_total) == (4, 4)


def test_report_fails_on_growth_and_shows_the_new_errors(tmp_path, capsys):
    result = typecheck.compare(Counter({"orders/a.py": 1}), typecheck.errors_per_file(OUTPUT))

    status = typecheck.report(result, OUTPUT, tmp_path / "mypy-baseline.txt")

    err = capsys.readouterr().err
    assert status == 1
    assert "orders/a.py: 1 -> 2" in err
    assert "returns/b.py: 0 -> 1" in err
    assert "Missing return statement" in err


def test_report_asks_to_lower_the_baseline_when_errors_were_fixed(tmp_path, capsys):
    allowed = Counter({"orders/a.py": 5, "returns/b.py": 1})
    result = typecheck.compare(allowed, typecheck.errors_per_file(OUTPUT))

    status = typecheck.report(result, OUTPUT, tmp_path / "mypy-baseline.txt")

    err = capsys.readouterr().err
    assert status == 1
    assert "--update" in err
    assert "orders/a.py: 5 -> 2" in err


def test_report_passes_when_counts_match(tmp_path, capsys):
    found = typecheck.errors_per_file(OUTPUT)

    status = typecheck.report(typecheck.compare(found, found), OUTPUT, tmp_path / "b.txt")

    assert status == 0
    assert "3 errors" in capsys.readouterr().out


def test_real_mypy_run_fails_when_a_file_gains_an_error_and_update_records_it(tmp_path):
    module = tmp_path / "wrong.py"
    module.write_text('count: int = "three"\n')
    baseline = tmp_path / "baseline.txt"
    baseline.write_text("")
    # A cache of its own: mypy's shared one may know a module of the same name at another path.
    env = {**os.environ, "MYPY_CACHE_DIR": str(tmp_path / "cache")}

    grown = _typecheck("--baseline", str(baseline), str(module), env=env)
    updated = _typecheck("--baseline", str(baseline), "--update", str(module), env=env)
    same = _typecheck("--baseline", str(baseline), str(module), env=env)

    assert grown.returncode == 1, grown.stdout + grown.stderr
    assert f"{module}: 0 -> 1" in grown.stderr
    assert "[assignment]" in grown.stderr
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert typecheck.baseline_read(baseline) == Counter({str(module): 1})
    assert same.returncode == 0, same.stdout + same.stderr


def test_the_projects_mypy_errors_do_not_grow():
    run = _typecheck()

    assert run.returncode == 0, run.stdout + run.stderr
