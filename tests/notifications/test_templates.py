"""Shop templates: rendered in the customer's locale with fallbacks, restricted to their
context, refused when invalid, and edited in the dashboard."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from notifications.dashboard.email_frame import email_preview_stash
from notifications.engine.rendering import message_render, message_render_outbound
from notifications.engine.templating import (
    TemplateInvalid,
    message_template_save,
    template_render,
)
from notifications.models import Message, MessageStatus, MessageTemplate
from orders.models import Purpose
from postpurchase.exceptions import DomainError
from postpurchase.message_kinds import message_kinds
from tests.factories import CustomerFactory, OrderFactory, StaffMembershipFactory

# What each registered kind's templates may use.
KIND_VARIABLES = {kind.name: kind.variables for kind in message_kinds()}

CONTEXT = {
    "shop_name": "Acme Tea",
    "order_number": "#1001",
    "customer_first_name": "Ada",
    "items": [{"quantity": 2, "title": "Green tea", "variant_title": "", "total": "18.00"}],
    "total": "18.00",
    "currency": "USD",
    "tracking_url": "https://shop.test/track/abc/",
}


def save(shop, *, kind="order_confirmation", channel="email", locale="", **parts):
    values = {
        "subject": "Order {{ order_number }}",
        "body_text": "Hello {{ customer_first_name }}",
        "body_html": "<p>Hello <b>{{ customer_first_name }}</b></p>",
        "whatsapp_content_sid": "",
    }
    values.update(parts)
    return message_template_save(
        shop=shop, kind=kind, channel=channel, locale=locale, actor=None, **values
    )


def outbound(order, *, channel="email", purpose=Purpose.TRANSACTIONAL, context=None):
    return Message.objects.create(
        shop=order.shop,
        customer=order.customer,
        order=order,
        kind="order_confirmation",
        channel=channel,
        purpose=purpose,
        recipient=order.email if channel == "email" else "+14155550123",
        about_type="order",
        about_id=order.pk,
        context=context or CONTEXT,
        send_at=timezone.now(),
        status=MessageStatus.QUEUED,
        dedupe_key=f"test:{order.pk}:{channel}:{purpose}",
    )


# --- Rendering -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_without_a_shop_template_the_default_files_render(shop):
    text = message_render(kind="order_confirmation", channel="email", context=CONTEXT, shop=shop)

    assert text.subject == "Acme Tea: your order #1001 is confirmed"
    assert "Hi Ada," in text.body_text
    assert "<html" in text.body_html
    assert "Green tea" in text.body_html


@pytest.mark.django_db
def test_the_shop_template_replaces_the_default_and_keeps_the_branded_layout(shop):
    save(shop)

    text = message_render(kind="order_confirmation", channel="email", context=CONTEXT, shop=shop)

    assert text.subject == "Order #1001"
    assert text.body_text == "Hello Ada"
    assert "<p>Hello <b>Ada</b></p>" in text.body_html
    assert text.body_html.startswith("<!doctype html>")  # the shared layout wraps it
    assert "Acme Tea" in text.body_html  # the layout's header


@pytest.mark.django_db
def test_html_values_are_escaped_in_the_shop_template(shop):
    save(shop)

    text = message_render(
        kind="order_confirmation",
        channel="email",
        context={**CONTEXT, "customer_first_name": "<script>x</script>"},
        shop=shop,
    )

    assert "<script>" not in text.body_html
    assert "&lt;script&gt;" in text.body_html


@pytest.mark.django_db
def test_an_email_template_without_html_gets_its_text_in_the_layout(shop):
    save(shop, body_html="", body_text="Hello {{ customer_first_name }}\n\nSee you")

    text = message_render(kind="order_confirmation", channel="email", context=CONTEXT, shop=shop)

    assert "<p>Hello Ada</p>" in text.body_html
    assert "<!doctype html>" in text.body_html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("customer_locale", "expected"),
    [("fr-CA", "canadien"), ("fr", "français"), ("fr-BE", "français"), ("de", "any"), ("", "any")],
)
def test_the_template_for_the_customers_locale_wins_then_its_language_then_any(
    shop, customer_locale, expected
):
    save(shop, locale="fr-CA", body_text="canadien")
    save(shop, locale="fr", body_text="français")
    save(shop, locale="", body_text="any")

    text = message_render(
        kind="order_confirmation",
        channel="email",
        context=CONTEXT,
        shop=shop,
        locale=customer_locale,
    )

    assert text.body_text == expected


@pytest.mark.django_db
def test_another_locale_only_falls_back_to_the_default_files(shop):
    save(shop, locale="fr", body_text="français")

    text = message_render(
        kind="order_confirmation", channel="email", context=CONTEXT, shop=shop, locale="de"
    )

    assert text.body_text.startswith("Hi Ada,")


@pytest.mark.django_db
def test_rendering_is_translated_for_the_customers_locale_else_the_shops(shop):
    save(shop, body_text="{{ True|yesno }} {{ 1234.5|floatformat:1 }}")
    order = OrderFactory(shop=shop, customer=CustomerFactory(shop=shop, locale="fr-CA"))
    shop.locale = "de"
    shop.save(update_fields=["locale"])
    german = OrderFactory(shop=shop, customer=CustomerFactory(shop=shop, locale=""))

    french = message_render_outbound(message=outbound(order))
    other = message_render_outbound(message=outbound(german))

    assert french.body_text == "oui 1234,5"
    assert other.body_text == "Ja 1234,5"


@pytest.mark.django_db
def test_the_preferences_link_is_in_the_context_of_a_customers_message(shop):
    save(shop, body_text="Manage: {{ preferences_url }}")
    order = OrderFactory(shop=shop)

    text = message_render_outbound(message=outbound(order))

    assert "/preferences/" in text.body_text


@pytest.mark.django_db
def test_model_attributes_cannot_be_reached_through_the_context(shop):
    order = OrderFactory(shop=shop)
    # Whatever a context holds, the template sees plain values only.
    context = {"order_number": order, "items": [{"title": "Tea"}]}

    text = template_render(
        "[{{ order_number.customer.email }}][{{ order_number.pk }}][{{ items.clear }}]"
        "[{{ items|length }}][{{ items.0.title }}]",
        context,
        html=False,
    )

    assert text == "[][][][1][Tea]"  # nothing reached, and the list was not emptied


# --- Validation ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "source", "message"),
    [
        ("body_text", "Hello {% if %}", "line 1"),
        ("body_text", "Hello\n{% for x in items %}", "line 2"),
        ("body_html", "<p>{% load static %}</p>", "{% load %} is not allowed"),
        ("body_html", '{% include "notifications/_layout.html" %}', "{% include %} is not allowed"),
        ("body_text", '{% extends "base.html" %}', "{% extends %} is not allowed"),
        ("body_text", "{% debug %}", "{% debug %} is not allowed"),
        ("body_text", '{% ssi "/etc/passwd" %}', "{% ssi %} is not allowed"),
        ("body_text", "{% url 'admin:index' %}", "{% url %} is not allowed"),
        ("subject", "Order {{ order.customer.email }}", "'order' is not a variable"),
        ("body_text", "Hi\n\n{{ secret_key }}", "line 3: 'secret_key' is not a variable"),
        ("body_text", "{{ total|add:settings }}", "'settings' is not a variable"),
        ("body_text", "{% if user.is_staff %}x{% endif %}", "'user' is not a variable"),
    ],
)
def test_invalid_templates_are_refused_with_the_line_and_nothing_is_saved(
    shop, field, source, message
):
    with pytest.raises(TemplateInvalid) as refused:
        save(shop, **{field: source})

    assert refused.value.field == field
    assert message in str(refused.value)
    assert isinstance(refused.value, DomainError)
    assert not MessageTemplate.objects.exists()


@pytest.mark.django_db
def test_an_invalid_save_leaves_the_previous_version_untouched(shop):
    save(shop, body_text="Hello")

    with pytest.raises(TemplateInvalid):
        save(shop, body_text="{% load i18n %}")

    assert MessageTemplate.objects.get().body_text == "Hello"


@pytest.mark.django_db
def test_loop_and_with_variables_are_known_inside_the_template(shop):
    save(
        shop,
        body_text=(
            "{% for item in items %}{{ forloop.counter }}. {{ item.title }}{% endfor %}"
            "{% with name=customer_first_name %}{{ name }}{% endwith %}"
        ),
    )

    text = message_render(kind="order_confirmation", channel="email", context=CONTEXT, shop=shop)

    assert text.body_text == "1. Green teaAda"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "channel", "locale", "field"),
    [
        ("no_such_kind", "email", "", "kind"),
        ("order_confirmation", "fax", "", "channel"),
        ("order_confirmation", "email", "not a locale", "locale"),
    ],
)
def test_unknown_kinds_channels_and_locales_are_refused(shop, kind, channel, locale, field):
    with pytest.raises(TemplateInvalid) as refused:
        save(shop, kind=kind, channel=channel, locale=locale)

    assert refused.value.field == field
    assert not MessageTemplate.objects.exists()


@pytest.mark.django_db
def test_a_save_replaces_the_shops_template_for_that_locale_and_records_who(shop, staff):
    save(shop, locale="fr_ca", body_text="un")
    message_template_save(
        shop=shop,
        kind="order_confirmation",
        channel="email",
        locale="fr-CA",
        subject="S",
        body_text="deux",
        body_html="",
        whatsapp_content_sid="",
        actor=staff,
    )

    template = MessageTemplate.objects.get()
    assert (template.locale, template.body_text, template.updated_by) == ("fr-CA", "deux", staff)


def _default_sources():
    """Each default template file's source, with its shared snippets inlined and the layout
    wrapper removed: what a kind's default text uses."""
    import re
    from pathlib import Path

    from django.conf import settings
    from django.template.loader import get_template
    from django.template.utils import get_app_template_dirs

    # Each app keeps its kinds' defaults in its own template folder.
    roots = [Path(settings.BASE_DIR) / "templates", *get_app_template_dirs("templates")]
    folders = [
        f
        for root in roots
        if (root / "notifications").is_dir()
        for f in (root / "notifications").iterdir()
    ]
    for folder in folders:
        if not (folder / "sms.txt").exists():
            continue
        for file in folder.iterdir():
            source = file.read_text()
            for name in re.findall(r'\{% include "([^"]+)" %\}', source):
                included = get_template(name).template.source
                source = source.replace(f'{{% include "{name}" %}}', included)
            yield (
                folder.name,
                file.name,
                re.sub(r"\{% (extends|block|endblock)[^%]*%\}", "", source),
            )


def test_every_variable_of_the_default_templates_is_documented_for_its_kind():
    from django.template import Engine

    from notifications.engine.templating import template_unknown_variables

    undocumented = []
    for kind, filename, source in _default_sources():
        assert kind in KIND_VARIABLES, f"{kind} has default templates but no documented variables"
        allowed = [variable.name for variable in KIND_VARIABLES[kind]]
        template = Engine(debug=True).from_string(source)
        undocumented += [
            (kind, filename, name) for name, _ in template_unknown_variables(template, allowed)
        ]

    assert undocumented == []
    for variables in KIND_VARIABLES.values():
        assert all(variable.description for variable in variables)


# --- SMS compliance text ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_shop_sms_template_gets_the_shop_name_and_stop_on_the_first_text(shop):
    save(shop, channel="sms", body_text="Order {{ order_number }} is confirmed")
    order = OrderFactory(shop=shop)

    text = message_render_outbound(message=outbound(order, channel="sms"))

    assert text.body_text == "Acme Tea: Order #1001 is confirmed Reply STOP to opt out."


@pytest.mark.django_db
def test_a_later_transactional_text_has_no_notice_but_a_marketing_one_does(shop):
    save(shop, channel="sms", body_text="{{ shop_name }}: order {{ order_number }}")
    order = OrderFactory(shop=shop)
    earlier = outbound(order, channel="sms")
    Message.objects.filter(pk=earlier.pk).update(status=MessageStatus.SENT)
    later = Message.objects.get(pk=earlier.pk)
    later.pk, later.dedupe_key, later.status = None, "later", MessageStatus.QUEUED
    later.save()
    marketing = outbound(order, channel="sms", purpose=Purpose.MARKETING)

    assert message_render_outbound(message=later).body_text == "Acme Tea: order #1001"
    assert (
        message_render_outbound(message=marketing).body_text
        == "Acme Tea: order #1001 Reply STOP to opt out."
    )


@pytest.mark.django_db
def test_the_notice_is_not_repeated_when_the_template_has_it(shop):
    save(shop, channel="sms", body_text="{{ shop_name }}: hi. Text STOP to end.")
    order = OrderFactory(shop=shop)

    text = message_render_outbound(message=outbound(order, channel="sms"))

    assert text.body_text == "Acme Tea: hi. Text STOP to end."


@pytest.mark.django_db
def test_the_default_sms_gets_stop_on_the_first_text(shop):
    order = OrderFactory(shop=shop)

    text = message_render_outbound(message=outbound(order, channel="sms"))

    assert text.body_text.startswith("Acme Tea: order #1001 confirmed")
    assert text.body_text.endswith("Reply STOP to opt out.")


@pytest.mark.django_db
def test_a_shop_template_reaches_the_customer_through_the_send_path(shop):
    from notifications.services import message_send

    save(shop, locale="fr", subject="Commande {{ order_number }}", body_text="Bonjour")
    order = OrderFactory(shop=shop, customer=CustomerFactory(shop=shop, locale="fr-FR"))
    message = outbound(order)

    assert message_send(message_id=message.pk) == MessageStatus.SENT

    assert mail.outbox[0].subject == "Commande #1001"
    assert mail.outbox[0].body == "Bonjour"
    message.refresh_from_db()
    assert message.subject == "Commande #1001"


# --- The editor ------------------------------------------------------------------------------


def list_url():
    return reverse("message_templates:list")


def edit_url(kind="order_confirmation", **query):
    from urllib.parse import urlencode

    url = reverse("message_templates:edit", args=[kind])
    return f"{url}?{urlencode(query)}" if query else url


@pytest.mark.django_db
def test_the_list_shows_every_kind_and_which_channels_are_customised(
    staff_client, shop, other_shop
):
    save(shop, locale="fr", channel="sms", body_text="x")
    save(other_shop, kind="shipment_shipped", body_text="not ours")

    response = staff_client.get(list_url())

    assert response.status_code == 200
    rows = {row["kind"]: row for row in response.context["rows"]}
    assert set(rows) == set(KIND_VARIABLES)
    cells = {c["channel"]: c["locales"] for c in rows["order_confirmation"]["cells"]}
    assert cells == {"Email": [], "SMS": ["fr"], "WhatsApp": []}
    assert all(not c["locales"] for c in rows["shipment_shipped"]["cells"])


@pytest.mark.django_db
def test_not_logged_in_is_sent_to_the_login_page(client):
    for url in (list_url(), edit_url()):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_the_edit_page_starts_from_the_default_and_shows_the_variables(staff_client, shop):
    response = staff_client.get(edit_url(channel="sms"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "{{ shop_name }}: order {{ order_number }} confirmed" in page
    assert "customer_first_name" in page
    assert "The customer&#x27;s first name" in page
    assert "Your shop has no orders yet" in page  # the preview's empty state
    assert 'name="locale"' in page


@pytest.mark.django_db
def test_saving_from_the_editor_stores_the_shops_template(staff_client, shop, staff):
    response = staff_client.post(
        edit_url(),
        {
            "channel": "email",
            "locale": "fr",
            "subject": "Commande {{ order_number }}",
            "body_text": "Bonjour {{ customer_first_name }}",
            "body_html": "<p>Bonjour</p>",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == edit_url(channel="email", locale="fr")
    template = MessageTemplate.objects.get(shop=shop)
    assert (template.locale, template.subject, template.updated_by) == (
        "fr",
        "Commande {{ order_number }}",
        staff,
    )
    page = staff_client.get(response["Location"]).content.decode()
    assert "Bonjour {{ customer_first_name }}" in page
    assert "Reset to default" in page


@pytest.mark.django_db
def test_an_invalid_template_shows_the_error_next_to_the_field_and_saves_nothing(
    staff_client, shop
):
    response = staff_client.post(
        edit_url(),
        {
            "channel": "email",
            "subject": "Hi",
            "body_text": "Hello",
            "body_html": "<p>\n{% include 'x.html' %}</p>",
        },
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["body_html"] == ["line 2: {% include %} is not allowed in message templates"]
    assert "line 2: {% include %} is not allowed" in response.content.decode()
    assert not MessageTemplate.objects.exists()


@pytest.mark.django_db
def test_the_preview_renders_the_draft_against_a_real_order_of_the_shop(staff_client, shop):
    older = OrderFactory(shop=shop, placed_at=timezone.now() - timezone.timedelta(days=9))
    OrderFactory(shop=shop)

    response = staff_client.post(
        reverse("message_templates:preview", args=["order_confirmation"]),
        {
            "channel": "email",
            "subject": "Order {{ order_number }}",
            "body_text": "Hi {{ customer_first_name }}",
            "body_html": "<p>Total {{ total }} {{ currency }}</p>",
            "order": older.pk,
        },
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert f"Order {older.number}" in page
    frame_url = response.context["preview"]["frame_url"]
    assert f'sandbox="" src="{frame_url}"' in page
    frame = staff_client.get(frame_url)
    assert frame.status_code == 200
    assert "<p>Total 55.00 USD</p>" in frame.content.decode()  # the email as its own document
    assert "style-src 'unsafe-inline'" in frame["Content-Security-Policy"]
    assert not MessageTemplate.objects.exists()  # a preview saves nothing


@pytest.mark.django_db
def test_a_previews_frame_is_the_shops_own_and_lapses(staff_client, shop, other_shop):
    theirs = email_preview_stash(shop=other_shop, html="<p>Theirs</p>")
    lapsed_url = reverse("message_templates:preview_frame", args=["no-such-token"])

    response = staff_client.get(reverse("message_templates:preview_frame", args=[theirs]))

    assert response.status_code == 404
    assert staff_client.get(lapsed_url).status_code == 404


@pytest.mark.django_db
def test_the_preview_shows_the_error_of_an_invalid_draft(staff_client, shop):
    response = staff_client.post(
        reverse("message_templates:preview", args=["order_confirmation"]),
        {"channel": "sms", "body_text": "{% load static %}"},
        HTTP_HX_REQUEST="true",
    )

    assert "{% load %} is not allowed" in response.content.decode()


@pytest.mark.django_db
def test_the_preview_works_without_javascript_on_the_whole_page(staff_client, shop):
    response = staff_client.post(
        reverse("message_templates:preview", args=["order_confirmation"]),
        {"channel": "sms", "body_text": "Hi {{ customer_first_name }}"},
    )

    assert response.status_code == 200
    assert "<form" in response.content.decode()
    assert response.context["preview"]["texts"][0]["body"] == "Hi Ada"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "encoding", "segments", "warning"),
    [
        ("a" * 100, "GSM-7", 1, None),
        ("a" * 200, "GSM-7", 2, "billed as 2 segments"),
        ("é" * 71 + "ł", "UCS-2", 2, "UCS-2 allows 70 characters"),
        ("a" * 700, "GSM-7", 5, "costs 5 times the price of a single text"),
    ],
)
def test_the_sms_preview_counts_characters_encoding_and_segments(
    staff_client, shop, body, encoding, segments, warning
):
    response = staff_client.post(
        reverse("message_templates:preview", args=["order_confirmation"]),
        {"channel": "sms", "body_text": "{{ shop_name }} " + body + " STOP"},
        HTTP_HX_REQUEST="true",
    )

    text = response.context["preview"]["texts"][0]
    assert text["encoding"] == encoding
    assert text["segments"] == segments
    assert text["characters"] == len(text["body"])
    page = response.content.decode()
    if warning:
        assert warning in page
    else:
        assert "billed as" not in page


@pytest.mark.django_db
def test_the_sms_preview_shows_the_first_text_with_its_notice(staff_client, shop):
    response = staff_client.post(
        reverse("message_templates:preview", args=["order_confirmation"]),
        {"channel": "sms", "body_text": "Order {{ order_number }} confirmed"},
        HTTP_HX_REQUEST="true",
    )

    later, first = response.context["preview"]["texts"]
    assert later["body"] == "Order #1001 confirmed"
    assert first["body"] == f"{shop.name}: Order #1001 confirmed Reply STOP to opt out."


@pytest.mark.django_db
def test_reset_deletes_the_shops_override(staff_client, shop):
    template = save(shop, locale="fr")

    response = staff_client.post(reverse("message_templates:reset", args=[template.pk]))

    assert response.status_code == 302
    assert not MessageTemplate.objects.exists()


@pytest.mark.django_db
def test_another_shops_template_and_orders_are_404(staff_client, shop, other_shop):
    theirs = save(other_shop, body_text="theirs")
    their_order = OrderFactory(shop=other_shop)

    reset = staff_client.post(reverse("message_templates:reset", args=[theirs.pk]))
    preview = staff_client.post(
        reverse("message_templates:preview", args=["order_confirmation"]),
        {"channel": "sms", "body_text": "x", "order": their_order.pk},
        HTTP_HX_REQUEST="true",
    )
    page = staff_client.get(edit_url()).content.decode()

    assert reset.status_code == 404
    assert preview.status_code == 404
    assert MessageTemplate.objects.filter(pk=theirs.pk).exists()
    assert "theirs" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("query", [{"channel": "fax"}, {"locale": "../../x"}])
def test_unknown_kinds_channels_and_locales_are_404_in_the_editor(staff_client, shop, query):
    assert staff_client.get(edit_url("no_such_kind")).status_code == 404
    assert staff_client.get(edit_url(**query)).status_code == 404


@pytest.mark.django_db
def test_an_agent_of_the_shop_sees_the_templates(client, shop):
    agent = StaffMembershipFactory(shop=shop, role="agent").user
    client.force_login(agent)

    assert client.get(list_url()).status_code == 200


@pytest.mark.django_db
def test_a_chunk_reads_each_shop_template_once(shop):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.services import messages_send

    save(shop, body_text="Hello {{ customer_first_name }}")
    orders = [OrderFactory(shop=shop) for _ in range(4)]
    ids = [outbound(order).pk for order in orders]

    with CaptureQueriesContext(connection) as captured:
        statuses = messages_send(message_ids=ids)

    assert set(statuses.values()) == {MessageStatus.SENT}
    reads = [q for q in captured.captured_queries if "notifications_messagetemplate" in q["sql"]]
    assert len(reads) == 1
    assert [m.body for m in mail.outbox] == ["Hello Ada"] * 4


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(KIND_VARIABLES))
@pytest.mark.parametrize("channel", ["email", "sms", "whatsapp"])
def test_every_edit_page_opens_with_a_working_preview(staff_client, shop, kind, channel):
    OrderFactory(shop=shop)

    response = staff_client.get(edit_url(kind, channel=channel))

    assert response.status_code == 200
    assert response.context["preview"]["error"] == ""


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["order_confirmation", "shipment_shipped", "shipment_delivered"])
def test_the_editor_starts_from_the_default_with_its_shared_snippets_inlined(
    staff_client, shop, kind
):
    response = staff_client.get(edit_url(kind, channel="email"))

    form = response.context["form"]
    assert form["subject"].value()
    assert form["body_text"].value()
    assert "{% include" not in form["body_html"].value()
    assert "{% extends" not in form["body_html"].value()
    # The starting point saves as it is, and renders like the default.
    fields = {name: form[name].value() for name in ("subject", "body_text", "body_html")}
    saved = staff_client.post(edit_url(kind), {"channel": "email", **fields})
    assert saved.status_code == 302
    default = message_render(kind=kind, channel="email", context=CONTEXT)
    own = message_render(kind=kind, channel="email", context=CONTEXT, shop=shop)
    assert own.subject == default.subject
    assert own.body_text == default.body_text
