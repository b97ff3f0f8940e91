"""Delivery is configured from the environment: the SMTP server (EMAIL_URL or the EMAIL_HOST…
variables) and the outbox's recovery timeouts and sweep."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
READ = (
    "import json; from django.conf import settings as s; print(json.dumps({"
    "'backend': s.EMAIL_BACKEND, 'host': s.EMAIL_HOST, 'port': s.EMAIL_PORT, "
    "'user': s.EMAIL_HOST_USER, 'password': s.EMAIL_HOST_PASSWORD, 'tls': s.EMAIL_USE_TLS, "
    "'ssl': s.EMAIL_USE_SSL, 'queued': s.NOTIFICATIONS_QUEUED_TIMEOUT.total_seconds(), "
    "'sending': s.NOTIFICATIONS_SENDING_TIMEOUT.total_seconds(), 'sweep': "
    "s.CELERY_BEAT_SCHEDULE['messages-recover-stuck']['schedule'].total_seconds()}))"
)
SMTP = "django.core.mail.backends.smtp.EmailBackend"


def settings_with(**env: str) -> subprocess.CompletedProcess:
    """The base settings as a process started with these variables (and no other email or
    outbox ones) reads them."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("EMAIL_", "NOTIFICATIONS_", "DJANGO_SETTINGS_MODULE"))
    }
    environment.update(DJANGO_SETTINGS_MODULE="postpurchase.settings.base", **env)
    return subprocess.run(  # noqa: S603 - our own settings, a fixed script
        [sys.executable, "-c", READ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def read(**env: str) -> dict:
    done = settings_with(**env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_without_any_variable_email_goes_to_the_console_and_recovery_takes_a_minute_or_two():
    found = read()

    assert found["backend"] == "django.core.mail.backends.console.EmailBackend"
    # After a Redis flush, queued mail is enqueued again within 60 s plus a 30 s sweep.
    assert (found["queued"], found["sending"], found["sweep"]) == (60, 120, 30)


def test_email_url_names_the_smtp_server_with_its_credentials_and_tls():
    found = read(EMAIL_URL="smtp+tls://mailer:p%40ss@mail.example.com:2587")

    assert (found["backend"], found["host"], found["port"]) == (SMTP, "mail.example.com", 2587)
    assert (found["user"], found["password"]) == ("mailer", "p@ss")
    assert (found["tls"], found["ssl"]) == (True, False)


def test_separate_variables_override_the_url_and_default_the_port_to_the_kind_of_tls():
    found = read(
        EMAIL_URL="smtp+tls://mailer:secret@mail.example.com",
        EMAIL_HOST="relay.example.com",
        EMAIL_USE_TLS="0",
        EMAIL_USE_SSL="1",
    )

    assert (found["host"], found["user"], found["password"]) == (
        "relay.example.com",
        "mailer",
        "secret",
    )
    assert (found["tls"], found["ssl"], found["port"]) == (False, True, 465)


def test_an_smtp_host_alone_selects_the_smtp_backend_and_an_esp_still_wins():
    assert read(EMAIL_HOST="mail.example.com")["backend"] == SMTP
    esp = "anymail.backends.postmark.EmailBackend"
    assert read(EMAIL_HOST="mail.example.com", EMAIL_BACKEND=esp)["backend"] == esp


def test_the_outbox_timeouts_and_the_sweep_come_from_the_environment():
    found = read(
        NOTIFICATIONS_QUEUED_TIMEOUT_SECONDS="20",
        NOTIFICATIONS_SENDING_TIMEOUT_SECONDS="45",
        NOTIFICATIONS_RECOVER_EVERY_SECONDS="10",
    )

    assert (found["queued"], found["sending"], found["sweep"]) == (20, 45, 10)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"}, "EMAIL_USE_SSL"),
        # A send still in progress would be held for review.
        ({"NOTIFICATIONS_SENDING_TIMEOUT_SECONDS": "15"}, "NOTIFICATIONS_SENDING_TIMEOUT"),
    ],
)
def test_settings_that_cannot_work_stop_the_process_with_the_reason(env, named):
    done = settings_with(**env)

    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert named in done.stderr


def test_empty_variables_count_as_unset_as_docker_compose_passes_them():
    assert read(EMAIL_BACKEND="", EMAIL_URL="")["backend"].endswith("console.EmailBackend")
    found = read(EMAIL_BACKEND="", EMAIL_URL="smtp://mail.example.com", EMAIL_HOST="")
    assert (found["backend"], found["host"], found["port"]) == (SMTP, "mail.example.com", 25)
