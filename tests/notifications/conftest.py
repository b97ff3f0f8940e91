from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from pytest_httpserver import HTTPServer

from tests.notifications.fake_twilio import fake_twilio_configure
from tests.notifications.smtp_server import SmtpServer, smtp_configure


@pytest.fixture
def fake_twilio(settings, httpserver: HTTPServer) -> HTTPServer:
    """Point the twilio client at a local fake Twilio for this test."""
    return fake_twilio_configure(settings, httpserver)


# 17:00 UTC on a June weekday: daytime for the test customers (London 18:00, Toronto and New
# York 13:00, San Francisco 10:00), so texts are not held for quiet hours.
DAYTIME = datetime(2026, 6, 10, 17, 0, tzinfo=UTC)


@pytest.fixture
def daytime():
    """Move the clock (ticking on) into every test recipient's daytime: texts obey quiet hours,
    and a test about sending must not depend on the hour it runs at."""
    with time_machine.travel(DAYTIME, tick=True):
        yield DAYTIME


@pytest.fixture
def smtp_server(settings) -> Iterator[SmtpServer]:
    """A real SMTP server on loopback (aiosmtpd) that this test's email goes to."""
    server = SmtpServer().start()
    smtp_configure(settings, server.port)
    yield server
    server.stop()
