"""The message-kind registry: each kind declared once by the app that owns its event, complete
(a label, default templates for each of its channels, the variables those templates use), and
refused when it names an event nobody declares or another app's kind."""

import re
from datetime import timedelta

import pytest
from django.template import Engine
from django.template.loader import get_template

from notifications.engine.templating import template_unknown_variables
from postpurchase import events, message_kinds
from postpurchase.message_kinds import MessageKind, TemplateVariable

KINDS = message_kinds.message_kinds()


def _source_inlined(name: str) -> str:
    """A default template's source with its shared snippets inlined and the layout's wrapper
    removed: all that a kind's default text uses."""
    source = get_template(name).template.source
    for included in re.findall(r'\{% include "([^"]+)" %\}', source):
        source = source.replace(
            f'{{% include "{included}" %}}', get_template(included).template.source
        )
    return re.sub(r"\{% (extends|block|endblock)[^%]*%\}", "", source)


@pytest.mark.parametrize("kind", KINDS, ids=[kind.name for kind in KINDS])
def test_every_registered_kind_has_a_label_templates_for_its_channels_and_their_variables(kind):
    assert str(kind.label).strip()
    assert kind.app
    assert all(variable.description for variable in kind.variables)
    for channel in kind.channels:
        for name in kind.template_names(channel):
            template = Engine(debug=True).from_string(_source_inlined(name))
            unknown = template_unknown_variables(template, kind.variable_names)
            assert unknown == [], f"{name} uses variables {kind.name} does not declare"


def test_the_apps_declare_the_kinds_of_their_own_events():
    owners = {kind.name: kind.app for kind in KINDS}

    assert owners["order_confirmation"] == "orders"
    assert owners["shipment_delivered"] == "orders"
    assert owners["return_approved"] == "returns"
    assert owners["replenishment"] == "notifications"


def _kind(**fields) -> MessageKind:
    values = {
        "name": "test_kind",
        "label": "Test kind",
        "trigger": "order_placed",
        "channels": ("email",),
        "purpose": "transactional",
        "planner": lambda request: [],
    }
    return MessageKind(**(values | fields))


@pytest.fixture
def forget_test_kind():
    yield
    message_kinds.unregister("test_kind")


def test_a_kind_on_an_event_nobody_declares_is_refused(forget_test_kind):
    with pytest.raises(events.UnknownEvent):
        message_kinds.register([_kind(trigger="order_teleported")], app="tests")

    assert message_kinds.message_kind_find("test_kind") is None


def test_a_kind_on_an_event_without_a_planner_is_refused(forget_test_kind):
    with pytest.raises(ValueError, match="no planner"):
        message_kinds.register([_kind(planner=None)], app="tests")


def test_a_periodic_kind_names_its_check_and_is_planned_by_no_event(forget_test_kind):
    message_kinds.register([_kind(trigger="every_full_moon", planner=None)], app="tests")

    kind = message_kinds.message_kind("test_kind")
    assert kind.is_periodic
    assert kind.app == "tests"


def test_another_apps_kind_cannot_be_declared_again():
    with pytest.raises(ValueError, match="declared by both orders and tests"):
        message_kinds.register([_kind(name="order_confirmation")], app="tests")

    assert message_kinds.message_kind("order_confirmation").app == "orders"


def test_an_unknown_kind_is_a_lookup_error():
    with pytest.raises(message_kinds.UnknownKind):
        message_kinds.message_kind("no_such_kind")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"name": "Order Confirmation"}, "lowercase"),
        ({"purpose": "gossip"}, "purpose"),
        ({"channels": ()}, "channels"),
        ({"channels": ("pigeon",)}, "channels"),
        ({"delay": timedelta(hours=-1)}, "negative"),
        ({"variables": (TemplateVariable("a", "A"), TemplateVariable("a", "A"))}, "twice"),
        ({"whatsapp_variables": ("code",)}, "WhatsApp"),
    ],
)
def test_a_malformed_declaration_is_refused(fields, error):
    with pytest.raises(ValueError, match=error):
        _kind(**fields)


def test_a_kind_keeps_its_templates_under_its_name_unless_it_says_otherwise():
    assert _kind().template_names("email") == [
        "notifications/test_kind/subject.txt",
        "notifications/test_kind/body.txt",
        "notifications/test_kind/body.html",
    ]
    assert _kind(templates="shop/gifts").template_names("whatsapp") == ["shop/gifts/sms.txt"]
