import io
import os
import smtplib
import threading
import time

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from PIL import Image

from orders import photos
from orders.models import Order, OrderEvent, ProblemReport, StaffRole
from orders.services import problem_report_create, problem_report_notify_shop
from orders.services.tracking import tracking_link_renew
from orders.tasks import problem_report_notify_shop_task
from orders.tracking import problems
from postpurchase.exceptions import DomainError
from tests.conftest import event_enqueues
from tests.factories import (
    OrderFactory,
    ShipmentFactory,
    StaffMembershipFactory,
    UserFactory,
)
from tests.notifications.smtp_server import SmtpServer, smtp_configure

PHOTO_ERROR = "Choose a JPEG, PNG or WebP photo under 5 MB."
DESCRIPTION = "The box was crushed & the mug inside is broken in two."


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Counters live in Redis, keyed by order id; ids repeat across runs of a new test database.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def order(shop):
    return OrderFactory(shop=shop, number="#1001")


@pytest.fixture
def notify_now(monkeypatch):
    """The task runs in this process when its enqueue runs, so the on-commit enqueue's effect
    (the email) can be asserted; the ids it was given are recorded."""
    enqueued: list[int] = []

    def delay(report_id: int) -> None:
        enqueued.append(report_id)
        problem_report_notify_shop_task(report_id)

    monkeypatch.setattr(problem_report_notify_shop_task, "delay", delay)
    return enqueued


def _url(order) -> str:
    return reverse("tracking:problem", args=[order.tracking_token])


def _image(fmt: str, size=(64, 48), mode="RGB", **save) -> bytes:
    image = Image.new(mode, size, (200, 30, 30, 128) if mode == "RGBA" else (200, 30, 30))
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def _jpeg_with_gps(size=(64, 48)) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}  # GPS IFD
    return _image("JPEG", size=size, exif=exif.tobytes())


def _post(client, order, *, photo=None, key="k" * 32, **fields):
    data = {
        "kind": "damaged",
        "description": DESCRIPTION,
        "submission_key": key,
        **fields,
    }
    if photo is not None:
        data["photo"] = photo
    return client.post(_url(order), data)


def _nothing_saved(order) -> None:
    assert not ProblemReport.objects.filter(order=order).exists()
    assert not OrderEvent.objects.filter(
        order=order, kind=OrderEvent.Kind.PROBLEM_REPORTED
    ).exists()
    assert mail.outbox == []


# --- the form -------------------------------------------------------------------------------


def test_problem_form_renders_with_a_one_time_key_and_private_headers(client, order):
    response = client.get(_url(order))

    assert response.status_code == 200
    body = response.content.decode()
    assert 'enctype="multipart/form-data"' in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert 'accept="image/jpeg,image/png,image/webp"' in body
    for kind in ("not_received", "damaged", "wrong_item"):
        assert f'value="{kind}"' in body
    assert 'name="shipment"' not in body  # a single parcel needs no choice
    key = response.context["form"].initial["submission_key"]
    assert len(key) >= 32
    assert f'name="submission_key" value="{key}"' in body
    assert client.get(_url(order)).context["form"].initial["submission_key"] != key
    assert order.shop.name in body
    assert response["Cache-Control"] in ("private, no-store", "no-store, private")
    assert "noindex" in response["X-Robots-Tag"]


def test_problem_form_asks_which_parcel_of_a_split_order(client, order):
    first = ShipmentFactory(order=order, carrier="UPS")
    second = ShipmentFactory(order=order, carrier="DHL")

    body = client.get(_url(order)).content.decode()

    assert 'name="shipment"' in body
    assert f'value="{first.pk}"' in body
    assert f'value="{second.pk}"' in body


def test_problem_form_submits_through_the_csrf_check_as_a_browser_would(order, notify_now):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(_url(order))
    token = browser.cookies["csrftoken"].value
    key = page.context["form"].initial["submission_key"]

    response = browser.post(
        _url(order),
        {
            "csrfmiddlewaretoken": token,
            "kind": "not_received",
            "description": DESCRIPTION,
            "submission_key": key,
        },
        # What a browser sends under the page's referrer policy; "no-referrer" would make it
        # `Origin: null`, which the CSRF check refuses.
        HTTP_ORIGIN="http://testserver",
        HTTP_REFERER="http://testserver" + _url(order),
    )

    assert page["Referrer-Policy"] == "same-origin"
    assert '<meta name="referrer" content="no-referrer">' not in page.content.decode()
    assert response.status_code == 303
    assert ProblemReport.objects.filter(order=order, submission_key=key).exists()


# --- a valid report -------------------------------------------------------------------------


def test_problem_report_is_saved_timelined_and_emailed_to_the_shop(
    client, order, notify_now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _post(client, order)

    assert response.status_code == 303
    assert response["Location"] == _url(order) + "?sent=1"
    report = ProblemReport.objects.get(order=order)
    assert report.kind == "damaged"
    assert report.description == DESCRIPTION
    assert report.shop_id == order.shop_id
    assert report.shipment is None
    assert not report.has_photo
    event = OrderEvent.objects.get(order=order, kind=OrderEvent.Kind.PROBLEM_REPORTED)
    assert event.note == "Damaged"
    assert event.data == {"problem_report_id": report.pk, "kind": "damaged"}
    # The shop's email, and the delivery of `problem_reported` (feedback opens a case on it).
    assert len(callbacks) == 2
    assert len(event_enqueues(callbacks)) == 1
    assert notify_now == [report.pk]
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [order.shop.support_email]
    assert email.subject == "Problem reported on order #1001: Damaged"
    assert DESCRIPTION in email.body  # as typed: no HTML escaping in a text email
    assert "#1001" in email.body
    assert f"https://shop.test/dashboard/orders/{order.pk}/" in email.body
    assert "Photo: none." in email.body
    assert email.reply_to == [order.email]
    assert email.attachments == []
    report.refresh_from_db()
    assert report.shop_notified_at is not None


def test_problem_report_notify_shop_twice_sends_one_email(order):
    report, _ = problem_report_create(
        order=order, kind="not_received", description=DESCRIPTION, submission_key="a" * 32
    )

    assert problem_report_notify_shop(report_id=report.pk) is True
    assert problem_report_notify_shop(report_id=report.pk) is False
    assert problem_report_notify_shop_task(report.pk) is False

    assert len(mail.outbox) == 1


def test_problem_report_notify_shop_falls_back_to_owners_and_managers(shop, order):
    shop.support_email = ""
    shop.save(update_fields=["support_email"])
    owner = StaffMembershipFactory(shop=shop, role=StaffRole.OWNER).user
    manager = StaffMembershipFactory(shop=shop, role=StaffRole.MANAGER).user
    StaffMembershipFactory(shop=shop, role=StaffRole.AGENT)
    StaffMembershipFactory(user=UserFactory(), role=StaffRole.OWNER)  # another shop's owner
    report, _ = problem_report_create(
        order=order, kind="wrong_item", description=DESCRIPTION, submission_key="b" * 32
    )

    problem_report_notify_shop(report_id=report.pk)

    assert sorted(mail.outbox[0].to) == sorted([owner.email, manager.email])


def test_problem_report_notify_shop_without_any_address_sends_nothing(shop, order):
    shop.support_email = ""
    shop.save(update_fields=["support_email"])
    report, _ = problem_report_create(
        order=order, kind="wrong_item", description=DESCRIPTION, submission_key="c" * 32
    )

    assert problem_report_notify_shop(report_id=report.pk) is False

    assert mail.outbox == []
    report.refresh_from_db()
    assert report.shop_notified_at is None


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback that the shop's email goes to."""
    server = SmtpServer().start()
    smtp_configure(settings, server.port)
    yield server
    server.stop()


@pytest.fixture
def slow_smtp(smtp):
    smtp.data_delay = 1.0  # a second to answer each message
    return smtp


@pytest.mark.django_db(transaction=True)
def test_no_row_is_locked_while_the_mail_server_answers_and_a_second_run_sends_nothing(
    order, slow_smtp
):
    report, _ = problem_report_create(
        order=order, kind="damaged", description=DESCRIPTION, submission_key="l" * 32
    )
    sent: list[bool] = []

    def run() -> None:
        try:
            sent.append(problem_report_notify_shop(report_id=report.pk))
        finally:
            connection.close()

    first = threading.Thread(target=run)
    first.start()
    try:
        for _ in range(500):  # until the server has the message and takes its time answering
            if slow_smtp.received:
                break
            time.sleep(0.01)
        assert slow_smtp.received
        with transaction.atomic():  # neither the report nor its order is locked meanwhile
            ProblemReport.objects.select_for_update(nowait=True).get(pk=report.pk)
            Order.objects.select_for_update(nowait=True).get(pk=order.pk)
        assert problem_report_notify_shop(report_id=report.pk) is False  # a redelivered task
    finally:
        first.join(10)

    assert sent == [True]
    assert slow_smtp.recipients() == [order.shop.support_email]
    report.refresh_from_db()
    assert report.shop_notified_at is not None


def test_a_refused_send_leaves_the_report_to_be_sent_by_the_retry(order, smtp):
    smtp.reply(order.shop.support_email, "451 4.3.0 Try again later", at="DATA")
    report, _ = problem_report_create(
        order=order, kind="damaged", description=DESCRIPTION, submission_key="m" * 32
    )

    with pytest.raises(smtplib.SMTPDataError):
        problem_report_notify_shop_task(report.pk)
    report.refresh_from_db()
    assert report.shop_notified_at is None

    assert problem_report_notify_shop_task(report.pk) is True  # the retry
    assert smtp.recipients() == [order.shop.support_email]
    report.refresh_from_db()
    assert report.shop_notified_at is not None


def test_problem_report_names_the_chosen_parcel(client, order, notify_now):
    ShipmentFactory(order=order)
    second = ShipmentFactory(order=order, carrier="DHL", tracking_number="JD0001")

    response = _post(client, order, shipment=str(second.pk))

    assert response.status_code == 303
    assert ProblemReport.objects.get(order=order).shipment == second


def test_problem_report_confirmation_links_back_to_the_order(client, order):
    response = client.get(_url(order) + "?sent=1")

    assert response.status_code == 200
    body = response.content.decode()
    assert f"Thanks, we have your report. {order.shop.name} will get back to you by email." in body
    assert reverse("tracking:page", args=[order.tracking_token]) in body
    assert response["Cache-Control"] in ("private, no-store", "no-store, private")


def test_problem_report_double_submit_keeps_the_first(
    client, order, notify_now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = _post(client, order, key="d" * 32)
        second = _post(client, order, key="d" * 32, description="A second, different text.")

    assert first.status_code == second.status_code == 303
    report = ProblemReport.objects.get(order=order)
    assert report.description == DESCRIPTION
    assert (
        OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.PROBLEM_REPORTED).count() == 1
    )
    assert len(mail.outbox) == 1


def test_problem_report_create_refuses_a_key_used_on_another_order(order, shop):
    problem_report_create(
        order=order, kind="damaged", description=DESCRIPTION, submission_key="e" * 32
    )

    with pytest.raises(DomainError):
        problem_report_create(
            order=OrderFactory(shop=shop),
            kind="damaged",
            description=DESCRIPTION,
            submission_key="e" * 32,
        )


def test_problem_report_create_refuses_another_orders_parcel(order, shop):
    foreign = ShipmentFactory(order=OrderFactory(shop=shop))

    with pytest.raises(DomainError):
        problem_report_create(
            order=order,
            kind="damaged",
            description=DESCRIPTION,
            shipment=foreign,
            submission_key="f" * 32,
        )

    assert not ProblemReport.objects.exists()


# --- photos ---------------------------------------------------------------------------------


def test_problem_report_jpeg_photo_is_reencoded_without_exif(
    client, order, notify_now, django_capture_on_commit_callbacks
):
    original = _jpeg_with_gps(size=(3000, 1500))
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the GPS is really there
    upload = SimpleUploadedFile("IMG_0001.jpg", original, content_type="image/jpeg")

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, order, photo=upload)

    assert response.status_code == 303
    report = ProblemReport.objects.get(order=order)
    assert report.photo_content_type == "image/jpeg"
    stored = Image.open(io.BytesIO(bytes(report.photo)))
    stored.load()
    assert stored.format == "JPEG"
    assert stored.size == (2000, 1000)
    assert len(stored.getexif()) == 0
    assert "exif" not in stored.info
    assert b"PhoneMaker" not in bytes(report.photo)
    email = mail.outbox[0]
    assert "Photo: attached to this email." in email.body
    [(name, content, content_type)] = email.attachments
    assert (name, content_type) == (f"problem-{report.pk}.jpg", "image/jpeg")
    assert content == bytes(report.photo)


def test_problem_report_png_photo_with_transparency_stays_png(client, order, notify_now):
    upload = SimpleUploadedFile("screenshot.png", _image("PNG", mode="RGBA"), "image/png")

    response = _post(client, order, photo=upload)

    assert response.status_code == 303
    report = ProblemReport.objects.get(order=order)
    assert report.photo_content_type == "image/png"
    stored = Image.open(io.BytesIO(bytes(report.photo)))
    assert (stored.format, stored.mode) == ("PNG", "RGBA")


def test_problem_report_webp_photo_is_accepted(client, order, notify_now):
    # Named and typed as something else: the bytes decide.
    upload = SimpleUploadedFile("photo.bin", _image("WEBP"), "application/octet-stream")

    response = _post(client, order, photo=upload)

    assert response.status_code == 303
    assert ProblemReport.objects.get(order=order).photo_content_type == "image/jpeg"


def _truncated_jpeg() -> bytes:
    data = _image("JPEG", size=(400, 300), quality=95)
    return data[: len(data) // 2]


def _svg() -> bytes:
    return b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'


def _pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _too_large() -> bytes:
    # A JPEG's first bytes, then past the 5 MB limit.
    return _image("JPEG") + os.urandom(photos.PHOTO_MAX_BYTES)


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("photo.jpg", b"this is a text file, not a photo at all\n" * 20, "image/jpeg"),
        ("photo.jpg", _truncated_jpeg(), "image/jpeg"),
        ("photo.gif", _image("GIF"), "image/gif"),
        ("photo.jpg", _image("GIF"), "image/jpeg"),
        ("photo.svg", _svg(), "image/svg+xml"),
        ("photo.pdf", _pdf(), "application/pdf"),
        ("photo.jpg", _too_large(), "image/jpeg"),
        ("photo.jpg", b"", "image/jpeg"),
    ],
    ids=["text-as-jpg", "truncated-jpeg", "gif", "gif-as-jpg", "svg", "pdf", "over-5mb", "empty"],
)
def test_problem_report_rejects_what_is_not_an_accepted_photo(
    client, order, notify_now, django_capture_on_commit_callbacks, name, content, content_type
):
    upload = SimpleUploadedFile(name, content, content_type=content_type)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _post(client, order, photo=upload)

    assert response.status_code == 400
    assert response.context["form"].errors["photo"] == [PHOTO_ERROR]
    assert 'id="photo-error">' + PHOTO_ERROR in response.content.decode()
    assert DESCRIPTION.replace("&", "&amp;") in response.content.decode()  # the text is kept
    assert callbacks == []
    _nothing_saved(order)


def test_problem_report_rejects_an_image_with_too_many_pixels(client, order, monkeypatch):
    monkeypatch.setattr(photos, "PHOTO_MAX_PIXELS", 100 * 100)
    upload = SimpleUploadedFile("big.png", _image("PNG", size=(101, 100)), "image/png")

    response = _post(client, order, photo=upload)

    assert response.status_code == 400
    assert response.context["form"].errors["photo"] == [PHOTO_ERROR]
    _nothing_saved(order)


def test_problem_report_photo_size_is_checked_before_it_is_read(order, monkeypatch):
    class Unreadable(SimpleUploadedFile):
        def read(self, *args):
            raise AssertionError("read although too large")

    upload = Unreadable("big.jpg", b"x" * 100, "image/jpeg")
    monkeypatch.setattr(photos, "PHOTO_MAX_BYTES", 99)

    with pytest.raises(photos.PhotoRejected):
        photos.photo_clean(upload)


# --- other refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"description": ""},
        {"description": "   "},
        {"description": "Too short"},
        {"description": "x" * 2001},
        {"kind": "lost_my_temper"},
        {"kind": ""},
        {"submission_key": ""},
    ],
    ids=["no-text", "blank-text", "short-text", "long-text", "unknown-kind", "no-kind", "no-key"],
)
def test_problem_report_rejects_an_incomplete_form(client, order, notify_now, fields):
    response = _post(client, order, **fields)

    assert response.status_code == 400
    [field] = response.context["form"].errors
    assert field == next(iter(fields))
    _nothing_saved(order)


def test_problem_report_says_how_long_the_text_must_be(client, order):
    response = _post(client, order, description="Too short")

    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="description-error">Describe what happened in 10 to 2000 characters.' in body
    assert ">Too short</textarea>" in body


def test_problem_report_rejects_a_parcel_of_another_order(client, order, shop, notify_now):
    ShipmentFactory(order=order)
    ShipmentFactory(order=order)
    foreign = ShipmentFactory(order=OrderFactory(shop=shop))

    response = _post(client, order, shipment=str(foreign.pk))

    assert response.status_code == 400
    assert "shipment" in response.context["form"].errors
    _nothing_saved(order)


@pytest.mark.parametrize("method", ["get", "post"])
def test_problem_page_of_an_unknown_token_is_not_found(client, order, method):
    url = reverse("tracking:problem", args=["not-a-real-token-0123456789abcdef"])

    response = getattr(client, method)(url, {"kind": "damaged", "description": DESCRIPTION})

    assert response.status_code == 404
    assert "This tracking link does not work" in response.content.decode()
    _nothing_saved(order)


@pytest.mark.parametrize("method", ["get", "post"])
def test_problem_page_of_a_revoked_token_is_not_found(client, order, notify_now, method):
    old_url = _url(order)
    tracking_link_renew(order=order)

    response = getattr(client, method)(
        old_url, {"kind": "damaged", "description": DESCRIPTION, "submission_key": "g" * 32}
    )

    assert response.status_code == 404
    _nothing_saved(order)


def test_problem_reports_past_the_daily_allowance_are_refused(client, order, monkeypatch):
    monkeypatch.setattr(problems, "SUBMISSIONS_PER_DAY", 2)
    monkeypatch.setattr(problem_report_notify_shop_task, "delay", lambda report_id: None)
    assert _post(client, order, key="h" * 32).status_code == 303
    assert _post(client, order, description="short").status_code == 400

    response = _post(client, order, key="i" * 32)

    assert response.status_code == 429
    assert "You have sent several reports for this order today." in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert response["Cache-Control"] in ("private, no-store", "no-store, private")
    assert ProblemReport.objects.filter(order=order).count() == 1
    # Another order's allowance is its own.
    other = OrderFactory(shop=order.shop)
    assert _post(client, other, key="j" * 32).status_code == 303
