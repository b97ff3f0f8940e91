"""Run wrk against one URL and read back throughput, latency and status counts."""

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

WRK_DIR = Path(__file__).resolve().parent / "wrk"
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class Endpoint:
    """One URL the rounds load: its wrk script, the script's environment, and the status class
    its view answers (a redirect is the answer of a one-tap link, and nothing else is)."""

    name: str
    url: str
    script: str = "status.lua"
    env: dict[str, str] = field(default_factory=dict)
    expected: str = "2xx"


@dataclass(frozen=True)
class Measurement:
    name: str
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]
    socket_errors: int
    expected: str = "2xx"

    @property
    def unexpected(self) -> int:
        return sum(n for cls, n in self.statuses.items() if cls != self.expected)

    @property
    def failures(self) -> int:
        """Responses of another status class than the view's own answer (2xx unless the
        endpoint says otherwise) plus requests that got no response at all."""
        return self.unexpected + self.socket_errors


def wrk_version() -> str:
    # `wrk -v` prints its banner and exits non-zero.
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10, check=False)
    found = re.search(r"^wrk (\S+)", done.stdout or done.stderr, re.M)
    return f"wrk {found.group(1)}" if found else "wrk (unknown version)"


def wrk_run(
    *,
    name: str,
    url: str,
    script: str,
    duration_s: int,
    connections: int,
    threads: int,
    env: dict[str, str] | None = None,
    expected: str = "2xx",
) -> Measurement:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration_s}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(WRK_DIR / script),
        url,
    ]
    full_env = {**os.environ, "BENCH_WRK_DIR": str(WRK_DIR), **(env or {})}
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=duration_s + 60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    return wrk_parse(name, done.stdout, expected=expected)


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def wrk_parse(name: str, text: str, expected: str = "2xx") -> Measurement:
    """Read wrk's report (run with --latency and status.lua)."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    total = re.search(r"^\s*(\d+) requests in", text, re.M)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
    status = re.search(r"^STATUS (.+)$", text, re.M)
    if not (rps and total and p50 and p99 and status):
        raise ValueError(f"unexpected wrk output:\n{text}")
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    return Measurement(
        name=name,
        requests=int(total.group(1)),
        rps=float(rps.group(1)),
        p50_ms=_ms(*p50.groups()),
        p99_ms=_ms(*p99.groups()),
        statuses={k: int(v) for k, v in (pair.split("=") for pair in status.group(1).split())},
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        expected=expected,
    )
