"""Ops' view of the kernel's rows: domain events, read-only, delivered again on request."""

import json

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from postpurchase.models import DomainEvent
from postpurchase.tasks import domain_event_deliver_task
from tests.factories import DomainEventFactory

pytestmark = pytest.mark.django_db

KERNEL_MODELS = sorted(apps.get_app_config("postpurchase").get_models(), key=lambda m: m.__name__)
# Written only by the system: ops can look but not add.
NO_ADD = {DomainEvent}


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def rows(shop):
    """At least one row of every model of the kernel."""
    DomainEventFactory(shop=shop, payload={"order_id": 7001})


def test_every_kernel_model_is_registered():
    assert [m.__name__ for m in KERNEL_MODELS if not admin.site.is_registered(m)] == []


@pytest.mark.parametrize("model", KERNEL_MODELS, ids=lambda m: m.__name__)
def test_changelist_lists_the_rows(admin_client, rows, model):
    response = admin_client.get(_url(model, "changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count == model._default_manager.count() >= 1


@pytest.mark.parametrize("model", KERNEL_MODELS, ids=lambda m: m.__name__)
def test_add_page_is_open_only_where_adding_makes_sense(admin_client, rows, model):
    response = admin_client.get(_url(model, "add"))

    assert response.status_code == (403 if model in NO_ADD else 200)


@pytest.mark.parametrize("model", KERNEL_MODELS, ids=lambda m: m.__name__)
def test_change_page_shows_a_row(admin_client, rows, model):
    obj = model._default_manager.first()

    response = admin_client.get(_url(model, "change", obj.pk))

    assert response.status_code == 200
    assert response.context["original"] == obj


@pytest.mark.parametrize("model", KERNEL_MODELS, ids=lambda m: m.__name__)
def test_every_search_box_runs(admin_client, rows, model):
    assert admin.site.get_model_admin(model).search_fields

    response = admin_client.get(_url(model, "changelist"), {"q": "no-such-thing-zzz"})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 0


def test_an_events_payload_is_shown_as_indented_json(admin_client, shop):
    event = DomainEventFactory(shop=shop, payload={"order_id": 7001, "reason": "<fraud>"})

    page = admin_client.get(_url(DomainEvent, "change", event.pk)).content.decode()

    shown = json.dumps(event.payload, indent=2, sort_keys=True)
    assert shown.replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;") in page


def test_domain_events_are_read_only(admin_client, shop):
    event = DomainEventFactory(shop=shop)

    response = admin_client.post(_url(DomainEvent, "delete", event.pk), {"post": "yes"})

    assert response.status_code == 403
    assert DomainEvent.objects.filter(pk=event.pk).exists()


def test_deliver_again_action_requeues_an_undelivered_domain_event(
    admin_client, shop, monkeypatch, django_capture_on_commit_callbacks
):
    stuck = DomainEventFactory(shop=shop, is_fully_delivered=False, attempts=20)
    done = DomainEventFactory(shop=shop, is_fully_delivered=True)
    queued: list[int] = []
    monkeypatch.setattr(domain_event_deliver_task, "delay", queued.append)

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            _url(DomainEvent, "changelist"),
            {"action": "deliver_again", "_selected_action": [stuck.pk, done.pk]},
        )

    stuck.refresh_from_db()
    assert stuck.attempts == 0
    assert queued == [stuck.pk]
