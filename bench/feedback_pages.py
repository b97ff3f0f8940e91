"""The feedback app's public pages under load: the survey's one-tap score link and the
storefront's review widget and JSON endpoint, measured in the same interleaved rounds as the
one-row read.

- A first tap (`/feedback/<token>/score/<n>/` of a survey not yet answered) records the answer
  and redirects (303) to the survey's page. `bench/wrk/paths.lua` walks through the links of
  every unanswered demo survey, each once; the answers a run recorded are deleted (and their
  surveys set back to `sent`) before the next first-tap run, so each run's taps are first taps.
- A repeated tap of one answered survey's link changes nothing and redirects the same way:
  the steady state of a double click, a second tap, a mail scanner.
- The widget and the JSON of the demo product with the most published reviews, from the cache
  (the warm-up fills it; nothing changes the reviews during the runs).

Every tap names its own client address (X-Forwarded-For, the server trusting one proxy), as
many customers' taps would: the survey pages' per-address rate limit counts each tap but stops
none. The Django side (seeding, the in-process probe) is `bench/feedback_pages_probe.py`."""

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench import stack
from bench.load import Endpoint

PROBE = Path(__file__).with_name("feedback_pages_probe.py")
TAP_FIRST, TAP_REPEAT = "survey_tap_first", "survey_tap_repeat"
WIDGET, REVIEWS_JSON = "review_widget", "reviews_json"
# The server trusts one proxy's X-Forwarded-For: wrk stands in for it (see `bench/wrk/paths.lua`).
SERVER_ENV = {"TRUSTED_PROXY_COUNT": "1"}


@dataclass
class FeedbackPages:
    facts: dict  # what the probe's `prepare` found and seeded
    paths_file: Path  # every unanswered survey's one-tap link, one a line
    repeat_file: Path  # the answered survey's link, the one line
    # Each first-tap run, warm-up included: (requests wrk counted, answers recorded).
    first_tap_runs: list[tuple[int, int]] = field(default_factory=list)
    answers_reset: int = 0  # answers deleted before first-tap runs
    probe: dict = field(default_factory=dict)
    probe_error: str = ""

    @property
    def taps(self) -> int:
        return int(self.facts["taps"])

    @property
    def prepared_at(self) -> datetime:
        return datetime.fromisoformat(self.facts["prepared_at"])


def prepare(folder: Path) -> FeedbackPages:
    """Before the server starts: the surveys to tap and the product to show (see the probe)."""
    paths_file = folder / "survey_taps.txt"
    facts = stack.django_script(PROBE, ["prepare", "--paths-file", str(paths_file)])
    repeat_file = folder / "survey_tap_repeat.txt"
    repeat_file.write_text(f"{facts['repeat_path']}\n")
    # Fresh statistics for the rows just added, as autovacuum would soon gather.
    stack.execute("ANALYZE feedback_surveyrequest")
    return FeedbackPages(facts=facts, paths_file=paths_file, repeat_file=repeat_file)


def endpoints(fp: FeedbackPages, base: str, threads: int) -> list[Endpoint]:
    taps = {"BENCH_WRK_THREADS": str(threads), "BENCH_CLIENTS": "1"}
    shop, product = fp.facts["shop"], fp.facts["product"]
    return [
        # The path comes from the script: one survey after another, or the one again.
        *(
            Endpoint(name, f"{base}/", "paths.lua", {**taps, "BENCH_PATHS_FILE": str(paths)}, "3xx")
            for name, paths in ((TAP_FIRST, fp.paths_file), (TAP_REPEAT, fp.repeat_file))
        ),
        Endpoint(WIDGET, f"{base}/feedback/widget/{shop}/{product}/"),
        Endpoint(REVIEWS_JSON, f"{base}/feedback/api/{shop}/{product}/reviews.json"),
    ]


def answers_recorded(fp: FeedbackPages) -> int:
    """Answers the benchmark's taps recorded so far (the demo's own are older)."""
    return stack.query(
        "SELECT count(*) AS n FROM feedback_surveyanswer WHERE answered_at >= %s",
        (fp.prepared_at,),
    )[0]["n"]


def answers_reset(fp: FeedbackPages) -> int:
    """Delete the answers the taps recorded and set their surveys back to `sent`: each survey
    is unanswered again, its link's next tap a first tap."""
    reset = stack.execute(
        "WITH gone AS (DELETE FROM feedback_surveyanswer WHERE answered_at >= %s "
        "RETURNING request_id) "
        "UPDATE feedback_surveyrequest r SET status = 'sent', answered_at = NULL "
        "FROM gone WHERE r.id = gone.request_id",
        (fp.prepared_at,),
    )
    fp.answers_reset += reset
    return reset


def probe(fp: FeedbackPages, repeat: int = 300) -> None:
    """The in-process measurements, run with no server (see feedback_pages_probe.py)."""
    answers_reset(fp)
    args = ["measure", "--paths-file", str(fp.paths_file), "--facts", json.dumps(fp.facts)]
    try:
        fp.probe = stack.django_script(PROBE, [*args, "--repeat", str(repeat)])
    except RuntimeError as exc:
        fp.probe_error = str(exc)
