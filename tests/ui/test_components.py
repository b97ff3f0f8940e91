"""The UI kit's components (templates/components/) render what they promise."""

import re

import pytest
from django import forms
from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import RequestFactory

from postpurchase import charts, status_tones
from postpurchase.tables import Column, table_sort

COLUMNS = [
    Column("Select", label_hidden=True),
    Column("Order", key="number"),
    Column("Placed", key="placed", order_by=("placed_at",), descending_first=True),
    Column("Total", key="total", numeric=True, descending_first=True),
]


def _request(query: str = ""):
    return RequestFactory().get(f"/orders/{query}")


def _render(name: str, query: str = "", **context) -> str:
    request = _request(query)
    return render_to_string(f"components/{name}.html", {**context, "request": request}, request)


def _th(html: str, label: str) -> str:
    (cell,) = [c for c in re.findall(r"<th\b.*?</th>", html, re.DOTALL) if f">{label}<" in c]
    return cell


# Sortable table ------------------------------------------------------------------------------


def test_table_sort_falls_back_to_the_default_and_breaks_ties_by_pk():
    sort = table_sort(_request(), columns=COLUMNS, default="-placed")

    assert sort.current == "-placed"
    assert sort.ordering == ("-placed_at", "-pk")


def test_table_sort_refuses_a_field_outside_the_whitelist():
    sort = table_sort(_request("?sort=-customer__password"), columns=COLUMNS, default="number")

    assert sort.ordering == ("number", "pk")


def test_table_sort_reads_the_requested_column_and_direction():
    sort = table_sort(_request("?sort=-total"), columns=COLUMNS, default="number")

    assert sort.ordering == ("-total", "-pk")
    assert [h.aria_sort for h in sort.headers] == ["", "", "", "descending"]


def test_sort_header_toggles_the_direction_and_sets_aria_sort():
    request = _request("?sort=number&q=ann&page=3")
    sort = table_sort(request, columns=COLUMNS, default="number")

    html = render_to_string(
        "components/table_head.html", {"sort": sort, "request": request}, request
    )

    number = _th(html, "Order")
    assert 'aria-sort="ascending"' in number
    assert 'href="?sort=-number&amp;q=ann"' in number  # other params kept, back to page 1
    placed = _th(html, "Placed")
    assert "aria-sort" not in placed
    assert 'href="?sort=-placed&amp;q=ann"' in placed  # a date sorts newest first
    assert '<span class="visually-hidden">Select</span>' in html


def test_sort_header_on_a_descending_column_offers_ascending():
    request = _request("?sort=-number")
    sort = table_sort(request, columns=COLUMNS, default="number")

    html = render_to_string("components/table_head.html", {"sort": sort}, request)

    assert 'aria-sort="descending"' in _th(html, "Order")
    assert 'href="?sort=number"' in _th(html, "Order")


def test_a_default_that_names_no_sortable_column_is_refused():
    with pytest.raises(ValueError, match="names no sortable column"):
        table_sort(_request(), columns=COLUMNS, default="customer")


# Pagination ----------------------------------------------------------------------------------


def test_pagination_summarises_the_range_and_keeps_other_params():
    page = Paginator(list(range(9538)), 50).page(2)

    html = _render("pagination", "?q=ann&page=2", page_obj=page, what="orders")

    assert "51–100 of 9,538 orders" in html
    assert 'href="?q=ann&amp;page=1"' in html
    assert 'rel="prev"' in html
    assert 'href="?q=ann&amp;page=3"' in html
    assert 'rel="next"' in html
    assert 'aria-current="page"' in html
    assert "hx-get" not in html


def test_pagination_with_a_target_swaps_through_htmx():
    page = Paginator(list(range(120)), 50).page(1)

    html = _render("pagination", page_obj=page, what="orders", target="order-results")

    assert 'hx-get="?page=2"' in html
    assert 'hx-target="#order-results"' in html


def test_pagination_of_one_page_shows_the_summary_without_links():
    page = Paginator(list(range(3)), 50).page(1)

    html = _render("pagination", page_obj=page, what="orders")

    assert "1–3 of 3 orders" in html
    assert "<ul>" not in html


def test_pagination_of_nothing_renders_nothing():
    page = Paginator([], 50).page(1)

    assert _render("pagination", page_obj=page, what="orders").strip() == ""


# Filter bar ----------------------------------------------------------------------------------


class _OrderFilters(forms.Form):
    q = forms.CharField(label="Search", required=False)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any"), ("delivered", "Delivered")]
    )
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)


def test_filter_bar_shows_a_removable_chip_per_filter_in_use_and_clear_all():
    query = "?q=ann&status=delivered&customer=7&page=2"
    form = _OrderFilters(_request(query).GET)
    form.is_valid()

    html = _render("filter_bar", query, form=form, action="/orders/", label="Filter orders")

    assert 'role="search" aria-label="Filter orders"' in html
    assert "Status: Delivered" in html  # the choice's label, not its value
    assert "Search: “ann”" in html
    assert 'href="/orders/?q=ann&amp;customer=7"' in html  # removes status and the page
    assert 'href="/orders/?status=delivered&amp;customer=7"' in html
    assert "Customer:" not in html  # a hidden field's raw value is no chip
    assert ">Clear all</a>" in html


def test_filter_bar_with_a_target_leaves_the_chips_to_the_results():
    form = _OrderFilters(_request("?status=delivered").GET)
    form.is_valid()

    html = _render(
        "filter_bar", "?status=delivered", form=form, action="/orders/", label="x", target="r"
    )

    assert 'hx-target="#r"' in html
    assert "input changed delay:300ms from:#id_q" in html
    assert "Clear all" not in html


def test_filter_bar_without_filters_in_use_shows_no_chips():
    form = _OrderFilters(_request().GET)

    html = _render("filter_bar", form=form, action="/orders/", label="Filter orders")

    assert "filter-chip" not in html


# Status chip ---------------------------------------------------------------------------------


@pytest.mark.parametrize("tone", status_tones.TONES)
def test_status_chip_always_carries_its_word(tone):
    html = _render("status_chip", label="In transit", tone=tone)

    assert f'class="status-chip status-chip--{tone}">In transit</span>' in html


def test_every_app_status_maps_to_a_known_tone():
    from notifications.models import MessageStatus
    from orders.models import OrderStatus, ShipmentStatus
    from returns.models import ReturnStatus

    for kind, choices in [
        ("order", OrderStatus),
        ("shipment", ShipmentStatus),
        ("message", MessageStatus),
        ("return", ReturnStatus),
    ]:
        for status in choices:
            assert status_tones.tone(kind, status) in status_tones.TONES
    assert status_tones.tone("return", "requested") == "attention"
    assert status_tones.tone("order", "cancelled") == "critical"
    assert status_tones.tone("nobody", "anything") == "neutral"


def test_status_tone_filter_reads_the_registered_mapping():
    from django.template import Context, Template

    template = Template(
        '{% load kit %}{% include "components/status_chip.html" with label=label '
        'tone=status|status_tone:"shipment" %}'
    )

    html = template.render(Context({"label": "Returned to sender", "status": "returned_to_sender"}))

    assert 'status-chip--critical">Returned to sender</span>' in html


def test_an_unknown_tone_cannot_be_registered():
    with pytest.raises(ValueError, match="unknown tone"):
        status_tones.register("test-kind", {"x": "green"})


# Empty state, page header, card --------------------------------------------------------------


def test_empty_state_says_what_will_appear_and_offers_the_action():
    html = _render(
        "empty_state",
        heading="No returns yet",
        text="Returns appear here once a customer files one.",
        action_label="Set the policy",
        action_url="/returns/policy/",
    )

    assert "<h2>No returns yet</h2>" in html
    assert "Returns appear here once a customer files one." in html
    assert 'href="/returns/policy/">Set the policy</a>' in html


def test_page_header_has_one_filled_button_the_primary_action():
    from postpurchase.templatetags.kit import kit_actions

    html = _render(
        "page_header",
        title="Orders",
        subtitle="Everything your store sent us",
        primary_label="Import orders",
        primary_url="/orders/import/",
        secondary=kit_actions("Export", "/orders/export/"),
    )

    assert "<h1>Orders</h1>" in html
    assert "Everything your store sent us" in html
    assert html.count('class="button"') == 1
    assert 'class="button" href="/orders/import/">Import orders</a>' in html
    assert 'class="button button--secondary" href="/orders/export/">Export</a>' in html


def test_card_wraps_its_body_under_a_heading_that_labels_it():
    html = _render("card", heading="Customer", body="Ann <b>Lee</b>", id="customer")

    assert 'aria-labelledby="customer-title"' in html
    assert '<h2 class="card__title" id="customer-title">Customer</h2>' in html
    assert "Ann &lt;b&gt;Lee&lt;/b&gt;" in html
    assert html.strip().endswith("</section>")


# Form field ----------------------------------------------------------------------------------


class _SenderForm(forms.Form):
    from_email = forms.EmailField(label="From address", help_text="Customers see it.")
    note = forms.CharField(label="Note", required=False)
    agree = forms.BooleanField(label="I agree", required=False)


def test_form_field_wires_help_and_error_to_the_input():
    form = _SenderForm({"from_email": "not an address"})
    form.is_valid()

    html = _render("form_field", field=form["from_email"])

    assert '<label for="id_from_email">From address' in html
    assert 'aria-describedby="id_from_email-help id_from_email-error"' in html
    assert 'aria-invalid="true"' in html
    assert '<p class="field__help" id="id_from_email-help">Customers see it.</p>' in html
    assert 'id="id_from_email-error">Enter a valid email address.</p>' in html
    assert 'value="not an address"' in html  # what was typed stays
    assert "(required)" in html


def test_form_field_without_help_or_error_describes_nothing():
    form = _SenderForm()

    html = _render("form_field", field=form["note"])

    assert "aria-describedby" not in html
    assert "(required)" not in html


def test_form_field_puts_a_checkbox_before_its_label():
    html = _render("form_field", field=_SenderForm()["agree"])

    assert html.index('type="checkbox"') < html.index("<label")


# Charts --------------------------------------------------------------------------------------


def test_bar_heights_are_proportional_to_the_values():
    chart = charts.bar_chart([("Mon", 10), ("Tue", 5), ("Wed", 0)], height=102)

    heights = [bar.height for bar in chart.bars]
    assert heights == [100.0, 50.0, 0.0]
    assert [bar.y for bar in chart.bars] == [2.0, 52.0, 102.0]


def test_bar_chart_of_zeros_or_nothing_does_not_divide_by_zero():
    assert [bar.height for bar in charts.bar_chart([("a", 0), ("b", 0)]).bars] == [0.0, 0.0]
    assert charts.bar_chart([]).bars == ()


def test_bar_chart_component_names_itself_and_carries_its_numbers_as_text():
    chart = charts.bar_chart([("Week 1", 1204), ("Week 2", 12)])

    html = _render("bar_chart", chart=chart, label="Returns per week")

    assert 'role="img" aria-label="Returns per week"' in html
    assert html.count("<rect") == 2
    assert '<th scope="row">Week 1</th><td class="num">1,204</td>' in html
    assert '<th scope="row">Week 2</th><td class="num">12</td>' in html


@pytest.mark.parametrize("values", [[5], [0, 0, 0], [3, 3]])
def test_a_flat_sparkline_is_drawn_across_the_middle(values):
    line = charts.sparkline(values, height=24)

    assert all(point.endswith(",12") for point in line.points.split())
    assert len(line.points.split()) == max(len(values), 2)


def test_sparkline_puts_the_highest_value_at_the_top():
    line = charts.sparkline([0, 10, 5], width=100, height=24)

    assert line.points == "0,22 50,2 100,12"


def test_sparkline_component_reads_its_values_as_text():
    line = charts.sparkline([4, 7], labels=["Dec 1", "Dec 2"])

    html = _render("sparkline", line=line, label="Orders per day")

    assert 'role="img" aria-label="Orders per day"' in html
    assert 'points="0,22 100,2"' in html
    assert "Orders per day: Dec 1: 4, Dec 2: 7" in html


def test_an_empty_sparkline_draws_nothing():
    line = charts.sparkline([])

    assert line.points == ""
