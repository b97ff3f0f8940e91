"""The tracking page's Django side: what one request costs in one process, cached and not.

Run by `bench/tracking.py` with the benchmark's environment (production settings on
`pp_bench`, Redis db 14), with no server running. Prints one JSON line with:

- the page's size (HTML, and the stylesheet it links), for the seeded order and for the
  demo order with the most items and scans;
- the SQL statements and Redis round trips (and which commands) of one view: cached (200 and
  304), not cached but unchanged for the client (304), and not cached (the first view);
- in-process wall times (median, p99) of those views, the one-row view and hello world,
  through Django's full request handling (middleware included) but without a server;
- where a cached and an uncached view spend their time (the view's steps, timed around the
  functions it calls, and the SQL as the driver timed it), the Redis script call alone
  against a bare round trip, `tracking_order_get` alone, and a profile of the cached view.
"""

import argparse
import cProfile
import gzip
import json
import pstats
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django

from bench.tracking import PAGE_KEY, TOKEN_KEY

PARTS = ("page", "shipments")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def ms_summary(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "median": statistics.median(ms),
        "mean": statistics.fmean(ms),
        "p99": percentile(ms, 0.99),
        "n": len(ms),
    }


def timed(
    function: Callable[[], Any], repeat: int, before: Callable[[], Any] | None = None
) -> dict[str, float]:
    """Wall times of `repeat` calls after a warm-up of 30 (templates loaded, connections open,
    scripts loaded); `before` runs ahead of each call, untimed."""
    for _ in range(30):
        if before is not None:
            before()
        function()
    seconds = []
    for _ in range(repeat):
        if before is not None:
            before()
        started = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - started)
    return ms_summary(seconds)


def statements_of(request: Callable[[], Any]) -> dict[str, Any]:
    """One request's answer: its HTTP status, SQL statements (by kind) and Redis round trips
    (with what each one sent)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with redis_calls() as trips, CaptureQueriesContext(connection) as queries:
        response = request()
    kinds = Counter(q["sql"].split(None, 1)[0].upper() for q in queries.captured_queries)
    return {
        "status": response.status_code,
        "queries": len(queries.captured_queries),
        "kinds": dict(kinds),
        "redis_round_trips": len(trips),
        "redis_commands": trips,
    }


class _Timers:
    """Wall time spent in named steps, and in SQL as the driver timed it, request by request."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.requests: list[defaultdict[str, float]] = []

    def next_request(self) -> None:
        self.requests.append(self.seconds)
        self.seconds = defaultdict(float)

    def medians_ms(self) -> dict[str, float]:
        """Each step's median over the requests (a request that skipped it counts 0): this
        machine has spikes that a mean would spread over every step."""
        names = {name for request in self.requests for name in request}
        return {
            name: statistics.median(r.get(name, 0.0) for r in self.requests) * 1000
            for name in names
        }

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - started

    def wrap(self, name: str, function: Callable) -> Callable:
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.step(name):
                return function(*args, **kwargs)

        return timed

    def sql(self, execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
        with self.step("sql"):
            return execute(sql, params, many, context)


@contextmanager
def redis_calls() -> Iterator[list[str]]:
    """What redis-py sends, one entry per round trip: a command's name, or a pipeline's."""
    from redis.client import Pipeline, Redis
    from redis.connection import AbstractConnection

    send, execute, pipeline_execute = (
        AbstractConnection.send_packed_command,
        Redis.execute_command,
        Pipeline.execute,
    )
    trips: list[str] = []
    pending: list[str] = []  # what the next packed send carries

    def sent(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        trips.append(pending.pop() if pending else "?")
        return send(self, command, check_health)

    def one(self: Redis, *args: Any, **options: Any) -> Any:
        pending.append(str(args[0]).upper())
        return execute(self, *args, **options)

    def many(self: Pipeline, raise_on_error: bool = True) -> Any:
        names = [str(args[0]).upper() for args, _ in self.command_stack]
        pending.append(f"pipeline of {len(names)} ({', '.join(names)})")
        return pipeline_execute(self, raise_on_error)

    with (
        patch.object(AbstractConnection, "send_packed_command", sent),
        patch.object(Redis, "execute_command", one),
        patch.object(Pipeline, "execute", many),
    ):
        yield trips


class _Probe:
    def __init__(self, token: str, repeat: int) -> None:
        from django.test import Client

        from orders.tracking.page import tracking_order_get
        from postpurchase.redis import redis_client

        self.token = token
        self.path = f"/track/{token}/"
        self.repeat = repeat
        self.client = Client(HTTP_HOST="127.0.0.1")
        self.redis = redis_client()
        tracked = tracking_order_get(token)
        if tracked is None:
            raise RuntimeError(f"no order for token {token}")
        self.order_pk = tracked.order.pk
        self.shop_id = tracked.order.shop_id
        self.etag = tracked.etag

    def get(self, path: str | None = None, **headers: str) -> Any:
        response = self.client.get(path or self.path, headers=headers)
        if response.status_code not in (200, 304):
            raise RuntimeError(f"{path or self.path} answered {response.status_code}")
        return response

    def _page_keys(self) -> list[str]:
        from orders.tracking.cache import tracking_cache_generations

        generations = tracking_cache_generations(order_id=self.order_pk, shop_id=self.shop_id)
        return [PAGE_KEY.format(self.order_pk, part, *generations) for part in PARTS]

    def uncache(self) -> None:
        """The order's first view from here: the token's entry and its stored pages gone."""
        self.redis.delete(TOKEN_KEY.format(self.token), *self._page_keys())

    def is_cached(self) -> bool:
        return bool(self.redis.exists(TOKEN_KEY.format(self.token), self._page_keys()[0]) == 2)

    def statements(self, *, cached: bool, **headers: str) -> dict[str, Any]:
        if cached:
            self.get()
            if not self.is_cached():
                raise RuntimeError("the page was not stored in Redis after a view")
        else:
            self.uncache()
        return statements_of(lambda: self.get(**headers))

    def timed(
        self, *, path: str | None = None, cold: bool = False, **headers: str
    ) -> dict[str, float]:
        return timed(
            lambda: self.get(path, **headers), self.repeat, before=self.uncache if cold else None
        )

    def split(self, *, cold: bool) -> dict[str, float]:
        """Median ms per request in each step of the view; the rest is Django's request
        handling, middleware and the response's headers."""
        from django.db import connection

        from orders.tracking import views

        timers = _Timers()
        patched = {
            "tracking_cache_get": "cache_get",
            "tracking_order_get": "order_get",
            "tracking_page_view_record": "view_record",
            "get_conditional_response": "conditional",
            "tracking_page_build": "build",
            "render_to_string": "render",
            "tracking_cache_generations": "generations",
            "tracking_cache_put": "cache_put",
        }
        originals = {name: getattr(views, name) for name in patched}
        try:
            for name, label in patched.items():
                setattr(views, name, timers.wrap(label, originals[name]))
            with connection.execute_wrapper(timers.sql):
                for _ in range(self.repeat):
                    if cold:
                        self.uncache()
                    with timers.step("total"):
                        self.get()
                    timers.next_request()
        finally:
            for name in patched:
                setattr(views, name, originals[name])
        return timers.medians_ms()

    def path_split(self, path: str) -> dict[str, float]:
        """A reference view's whole request and its SQL, median ms."""
        from django.db import connection

        timers = _Timers()
        with connection.execute_wrapper(timers.sql):
            for _ in range(self.repeat):
                with timers.step("total"):
                    self.get(path)
                timers.next_request()
        return timers.medians_ms()

    def redis_parts(self) -> dict[str, float]:
        """The cached view's Redis call alone (the script run, its answer decoded), against a
        bare round trip (PING) and a plain GET of the stored page, on the same connection."""
        from orders.tracking.cache import tracking_cache_get

        self.get()
        page_key = self._page_keys()[0]

        def script() -> None:
            if tracking_cache_get(self.token, "page", count_view=True) is None:
                raise RuntimeError("the page was not in Redis")

        return {
            "script_call": median_ms(script, self.repeat),
            "ping": median_ms(self.redis.ping, self.repeat),
            "get_page": median_ms(lambda: self.redis.get(page_key), self.repeat),
        }

    def order_get_parts(self) -> dict[str, float]:
        """`tracking_order_get`, the read every view that misses the cache starts with: the
        whole call against its one statement sent as raw SQL, and Postgres's own times."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from orders.models import Order
        from orders.tracking.page import tracking_order_get

        with CaptureQueriesContext(connection) as queries:
            tracking_order_get(self.token)
        sql = queries.captured_queries[0]["sql"]

        def raw() -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                cursor.fetchall()

        with connection.cursor() as cursor:
            cursor.execute(sql)
            columns = len(cursor.description)
        return {
            "call": median_ms(lambda: tracking_order_get(self.token), self.repeat),
            "raw_sql": median_ms(raw, self.repeat),
            "row_orm": median_ms(
                lambda: Order.objects.only("pk", "status").get(pk=self.order_pk), self.repeat
            ),
            "columns": columns,
            **_plan_ms(sql, self.repeat),
        }

    def profile(self, top: int = 12) -> list[dict[str, Any]]:
        """The functions the cached view spends its own time in (cProfile's tottime), per
        request; cProfile's overhead inflates them all, so they are read as shares."""
        self.get()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(self.repeat):
            self.get()
        profiler.disable()
        stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        total = sum(row[2] for row in stats.values())
        rows = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
        return [
            {
                "function": _function_name(where),
                "calls": round(row[1] / self.repeat, 1),
                "own_ms": row[2] * 1000 / self.repeat,
                "share": row[2] / total,
            }
            for where, row in rows
        ]


def _plan_ms(sql: str, repeat: int) -> dict[str, float]:
    """Postgres's own planning and execution times for the statement (medians)."""
    from django.db import connection

    planning, execution = [], []
    with connection.cursor() as cursor:
        for _ in range(min(repeat, 100)):
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            planning.append(plan[0]["Planning Time"])
            execution.append(plan[0]["Execution Time"])
    return {
        "planning": statistics.median(planning),
        "execution": statistics.median(execution),
    }


def median_ms(function: Callable[[], Any], repeat: int) -> float:
    for _ in range(20):
        function()
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds) * 1000


def _function_name(where: tuple[str, int, str]) -> str:
    filename, line, name = where
    if filename == "~":
        return name  # a built-in: "<method 'execute' of ...>"
    for marker in ("site-packages/", "/work/main/"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
    root = str(Path(__file__).resolve().parent.parent) + "/"
    return f"{filename.removeprefix(root)}:{line}({name})"


def _sizes(probe: _Probe) -> dict[str, Any]:
    from django.contrib.staticfiles import finders
    from django.db.models import Count

    from orders.models import Order

    probe.uncache()
    html = probe.get().content
    css_path = finders.find("css/customer.css")
    if not isinstance(css_path, str):
        raise SystemExit("css/customer.css is not among the static files")
    css = Path(css_path).read_bytes()
    largest = (
        Order.objects.filter(shop__slug="demo")
        .annotate(items=Count("line_items", distinct=True))
        .annotate(scans=Count("shipments__events", distinct=True))
        .annotate(parcels=Count("shipments", distinct=True))
        .order_by("-scans", "-items", "pk")
        .values("pk", "number", "tracking_token", "items", "scans", "parcels")
        .first()
    )
    if largest is None:
        raise SystemExit("The demo shop has no orders: run `seed_demo` first")
    largest_html = probe.get(f"/track/{largest['tracking_token']}/").content
    return {
        "html_bytes": len(html),
        "html_gzip_bytes": len(gzip.compress(html)),
        "css_bytes": len(css),
        "css_gzip_bytes": len(gzip.compress(css)),
        "largest": {
            "number": largest["number"],
            "items": largest["items"],
            "scans": largest["scans"],
            "parcels": largest["parcels"],
            "html_bytes": len(largest_html),
        },
    }


def measure(token: str, repeat: int) -> dict[str, Any]:
    probe = _Probe(token, repeat)
    result: dict[str, Any] = {"sizes": _sizes(probe)}
    probe.get()  # the script loaded into Redis, the templates compiled
    etag = f'"{probe.etag}"'
    result["statements"] = {
        "cached": probe.statements(cached=True),
        "cached_304": probe.statements(cached=True, if_none_match=etag),
        "miss_304": probe.statements(cached=False, if_none_match=etag),
        "uncached": probe.statements(cached=False),
    }
    result["timings"] = {
        "hello": probe.timed(path="/bench/hello"),
        "one_row": probe.timed(path=f"/bench/order/{probe.order_pk}"),
        "cached": probe.timed(),
        "cached_304": probe.timed(if_none_match=etag),
        "miss_304": probe.timed(cold=True, if_none_match=etag),
        "uncached": probe.timed(cold=True),
    }
    probe.get()
    result["split"] = {
        "hello": probe.path_split("/bench/hello"),
        "one_row": probe.path_split(f"/bench/order/{probe.order_pk}"),
        "cached": probe.split(cold=False),
        "uncached": probe.split(cold=True),
    }
    result["redis"] = probe.redis_parts()
    result["order_get"] = probe.order_get_parts()
    result["profile"] = probe.profile()
    result["repeat"] = repeat
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["measure"])
    parser.add_argument("--token", required=True)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    django.setup()
    print(json.dumps(measure(args.token, args.repeat)))


if __name__ == "__main__":
    main()
