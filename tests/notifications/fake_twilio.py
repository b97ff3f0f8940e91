"""A local stand-in for Twilio's API: the real twilio client talks to it over loopback."""

from pytest_httpserver import HTTPServer

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "fake-auth-token"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
MESSAGE_SID = "SM" + "a" * 32
FROM_NUMBER = "+15005550006"


def fake_twilio_configure(settings, httpserver: HTTPServer) -> HTTPServer:
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.TWILIO_WHATSAPP_FROM_NUMBER = ""
    settings.TWILIO_API_BASE_URL = httpserver.url_for("/")
    return httpserver


def twilio_accepts(server: HTTPServer) -> None:
    server.expect_request(MESSAGES_PATH, method="POST").respond_with_json(
        {
            "sid": MESSAGE_SID,
            "account_sid": ACCOUNT_SID,
            "status": "queued",
            "num_segments": "1",
            "date_created": "Wed, 01 Jan 2025 00:00:00 +0000",
        },
        status=201,
    )


def twilio_form(server: HTTPServer) -> dict[str, str]:
    request, _ = server.log[-1]
    return dict(request.form)
