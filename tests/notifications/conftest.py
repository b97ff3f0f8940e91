import pytest
from pytest_httpserver import HTTPServer

from tests.notifications.fake_twilio import fake_twilio_configure


@pytest.fixture
def fake_twilio(settings, httpserver: HTTPServer) -> HTTPServer:
    """Point the twilio client at a local fake Twilio for this test."""
    return fake_twilio_configure(settings, httpserver)
