"""The tracking page's Django side: what one request costs in one process, cached and not.

Run by `bench/tracking.py` with the benchmark's environment (production settings on
`pp_bench`, Redis db 14), with no server running. Prints one JSON line with:

- the page's size (HTML, and the stylesheet it links), for the seeded order and for the
  demo order with the most items and scans;
- the SQL statements and Redis round trips of one view: cached, uncached, and a 304;
- in-process wall times (median, p99) of the cached view, the uncached view (its cache entry
  deleted before each request), the one-row view and hello world, through Django's full
  request handling (middleware included) but without a server;
- where a cached and an uncached view spend their time (the view's steps, timed around the
  functions it calls, and the SQL as the driver timed it), and a profile of the cached view.
"""

import argparse
import cProfile
import gzip
import json
import pstats
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "median": statistics.median(ms),
        "mean": statistics.fmean(ms),
        "p99": _percentile(ms, 0.99),
        "n": len(ms),
    }


class _Timers:
    """Wall time spent in named steps, and in SQL as the driver timed it, request by request."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self.requests: list[Counter[str]] = []

    def next_request(self) -> None:
        self.requests.append(self.seconds)
        self.seconds = Counter()

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
def _redis_round_trips() -> Iterator[list[int]]:
    """Counts what redis-py sends: one packed send per command, or per pipeline."""
    from redis.connection import AbstractConnection

    original = AbstractConnection.send_packed_command
    counter = [0]

    def counted(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        counter[0] += 1
        return original(self, command, check_health)

    AbstractConnection.send_packed_command = counted
    try:
        yield counter
    finally:
        AbstractConnection.send_packed_command = original


class _Probe:
    def __init__(self, token: str, repeat: int) -> None:
        from django.test import Client

        from orders.tracking.page import tracking_order_get

        self.token = token
        self.path = f"/track/{token}/"
        self.repeat = repeat
        self.client = Client(HTTP_HOST="127.0.0.1")
        tracked = tracking_order_get(token)
        if tracked is None:
            raise RuntimeError(f"no order for token {token}")
        self.order_pk = tracked.order.pk
        self.tracked_order = tracked.order
        self.key = f"track:{tracked.order.pk}:page:{tracked.etag}"
        self.etag = tracked.etag

    def get(self, path: str | None = None, **headers: str) -> Any:
        response = self.client.get(path or self.path, headers=headers)
        if response.status_code not in (200, 304):
            raise RuntimeError(f"{path or self.path} answered {response.status_code}")
        return response

    def uncache(self) -> None:
        from django.core.cache import cache

        cache.delete(self.key)

    def statements(self, *, cached: bool, **headers: str) -> dict[str, Any]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        if not cached:
            self.uncache()
        with _redis_round_trips() as trips, CaptureQueriesContext(connection) as queries:
            response = self.get(**headers)
        kinds = Counter(q["sql"].split(None, 1)[0].upper() for q in queries.captured_queries)
        return {
            "status": response.status_code,
            "queries": len(queries.captured_queries),
            "kinds": dict(kinds),
            "redis_round_trips": trips[0],
        }

    def timed(self, *, path: str | None = None, cold: bool = False) -> dict[str, float]:
        for _ in range(30):  # warm-up: templates loaded, connections open
            if cold:
                self.uncache()
            self.get(path)
        seconds = []
        for _ in range(self.repeat):
            if cold:
                self.uncache()
            started = time.perf_counter()
            self.get(path)
            seconds.append(time.perf_counter() - started)
        return _ms(seconds)

    def split(self, *, cold: bool) -> dict[str, float]:
        """Median ms per request in each step of the view; the rest is Django's request
        handling and middleware, the same for every view."""
        from django.db import connection

        from orders.tracking import views

        timers = _Timers()
        patched = {
            "tracking_order_get": "order_get",
            "tracking_page_view_record": "view_record",
            "tracking_page_build": "build",
            "render_to_string": "render",
            "get_conditional_response": "conditional",
        }
        originals = {name: getattr(views, name) for name in patched}
        cache_get, cache_set = views.cache.get, views.cache.set
        try:
            for name, label in patched.items():
                setattr(views, name, timers.wrap(label, originals[name]))
            views.cache.get = timers.wrap("cache_get", cache_get)
            views.cache.set = timers.wrap("cache_set", cache_set)
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
            del views.cache.get, views.cache.set  # back to the proxy's own attribute lookup
        return timers.medians_ms()

    def row_split(self) -> dict[str, float]:
        from django.db import connection

        timers = _Timers()
        with connection.execute_wrapper(timers.sql):
            for _ in range(self.repeat):
                with timers.step("total"):
                    self.get(f"/bench/order/{self.order_pk}")
                timers.next_request()
        return timers.medians_ms()

    def order_get_parts(self) -> dict[str, float]:
        """What `tracking_order_get` is made of: its one statement sent as raw SQL, against the
        whole call (queryset, SQL compilation, model instances, language, zone, version); the
        one-row view's ORM read for scale; shares from a profile of the same calls."""
        from django.db import connection
        from django.db.models.query import ModelIterable
        from django.db.models.sql.compiler import SQLCompiler
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

        def call() -> None:
            tracking_order_get(self.token)

        def row() -> None:
            Order.objects.only("pk", "status").get(pk=self.order_pk)

        with CaptureQueriesContext(connection) as queries:
            row()
        row_plan = _plan_ms(queries.captured_queries[0]["sql"], self.repeat)
        parts = {
            "row_planning": row_plan["planning"],
            "row_execution": row_plan["execution"],
            "call": _median_ms(call, self.repeat),
            "raw_sql": _median_ms(raw, self.repeat),
            "row_orm": _median_ms(row, self.repeat),
            "columns": columns,
            **_plan_ms(sql, self.repeat),
        }
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(self.repeat):
            call()
        profiler.disable()
        stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]

        def cumulative(function: Callable) -> float:
            code = function.__code__
            return sum(
                row[3]
                for (filename, line, name), row in stats.items()
                if filename == code.co_filename and line == code.co_firstlineno
            )

        whole = cumulative(tracking_order_get)
        compile_sql = cumulative(SQLCompiler.as_sql)
        execute = cumulative(SQLCompiler.execute_sql) - compile_sql
        instances = cumulative(ModelIterable.__iter__) - compile_sql - execute
        parts["shares"] = {
            "compile_sql": compile_sql / whole,
            "execute_fetch": execute / whole,
            "model_instances": instances / whole,
            "queryset_and_rest": 1 - (compile_sql + execute + instances) / whole,
        }
        return parts

    def redis_parts(self) -> dict[str, float]:
        """The cached view's two Redis round trips (the page, then the view count's
        pipeline), against the same commands in one pipeline."""
        from django.core.cache import cache

        from orders.tracking import views_count
        from postpurchase.redis import redis_client

        client = redis_client()
        full_key = cache.make_and_validate_key(self.key)
        tally = f"bench:tally:{self.order_pk}"

        def tally_commands(pipe: Any) -> None:
            pipe.hincrby(tally, "count", 1)
            pipe.hsetnx(tally, "first", 1.0)
            pipe.hset(tally, mapping={"last": 2.0, "shop": 1})
            pipe.sadd("bench:tally:dirty", self.order_pk)

        def two() -> None:
            cache.get(self.key)
            views_count.tracking_page_view_record(order=self.tracked_order)

        def one() -> None:
            pipe = client.pipeline(transaction=False)
            pipe.get(full_key)
            tally_commands(pipe)
            pipe.execute()

        try:
            return {
                "two_round_trips": _median_ms(two, self.repeat),
                "one": _median_ms(one, self.repeat),
            }
        finally:
            client.delete(tally, "bench:tally:dirty")

    def profile(self, top: int = 10) -> list[dict[str, Any]]:
        """The functions the cached view spends its own time in (cProfile's tottime), per
        request; cProfile's overhead inflates them all, so they are read as shares."""
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


def _median_ms(function: Callable[[], Any], repeat: int) -> float:
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
    css = Path(finders.find("css/track.css")).read_bytes()
    largest = (
        Order.objects.filter(shop__slug="demo")
        .annotate(items=Count("line_items", distinct=True))
        .annotate(scans=Count("shipments__events", distinct=True))
        .annotate(parcels=Count("shipments", distinct=True))
        .order_by("-scans", "-items", "pk")
        .values("pk", "number", "tracking_token", "items", "scans", "parcels")
        .first()
    )
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
    probe.get()  # cached from here on
    result["statements"] = {
        "cached": probe.statements(cached=True),
        "uncached": probe.statements(cached=False),
        "not_modified": probe.statements(cached=True, if_none_match=f'"{probe.etag}"'),
    }
    result["timings"] = {
        "hello": probe.timed(path="/bench/hello"),
        "one_row": probe.timed(path=f"/bench/order/{probe.order_pk}"),
        "cached": probe.timed(),
        "uncached": probe.timed(cold=True),
    }
    result["split"] = {
        "one_row": probe.row_split(),
        "cached": probe.split(cold=False),
        "uncached": probe.split(cold=True),
    }
    result["order_get"] = probe.order_get_parts()
    result["redis"] = probe.redis_parts()
    probe.get()
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
