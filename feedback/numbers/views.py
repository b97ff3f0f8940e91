"""The feedback numbers page: a range of days against the one before it, read from the daily
rollups (`feedback.numbers.selectors`)."""

from typing import Any

from feedback.numbers import presenters
from feedback.numbers.forms import NumbersPeriodForm
from feedback.numbers.selectors import feedback_numbers
from postpurchase import permissions
from postpurchase.shell.staff import DashboardView


class NumbersView(DashboardView):
    template_name = "feedback/numbers/overview.html"
    nav_section = "feedback"
    permission = permissions.DASHBOARD_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = NumbersPeriodForm(self.request.GET or None)
        period = form.period(self.shop.today())
        numbers = feedback_numbers(self.shop, period)
        return super().get_context_data(
            form=form,
            numbers=numbers,
            page=presenters.numbers_page(numbers),
            tab="numbers",
            **kwargs,
        )
