"""The merchant's side of reviews: the queue (held reviews first, each saying which rule held
it), each review's page (its versions, photos, decisions and the shop's public reply), the
publish rate by star and the review incentive.

Reads through `feedback.reviews.selectors` scoped to the staff member's shop (another shop's
review is a 404); every change is one `feedback.reviews.services` call, then a redirect."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views import View

from feedback.models import IncentiveKind, Review, ReviewIncentive, ReviewStatus
from feedback.reviews import selectors
from feedback.reviews.dashboard.forms import (
    IncentiveForm,
    PhotoFlagForm,
    PublishForm,
    RejectForm,
    ReplyForm,
    ReviewFilterForm,
)
from feedback.reviews.services import (
    review_incentive_save,
    review_photo_flag,
    review_publish,
    review_reject,
    review_reply_save,
)
from postpurchase import permissions
from postpurchase.exceptions import DomainError, IllegalTransition
from postpurchase.shell.forms import read_only
from postpurchase.shell.nav import Crumb
from postpurchase.shell.staff import DashboardView, StaffPermissionMixin, StaffRequest
from postpurchase.tables import Column, table_sort

REVIEWS_PER_PAGE = 50

# The queue's columns; newest first by default.
QUEUE_COLUMNS = [
    Column("Product"),
    Column("Rating", key="rating", numeric=True, descending_first=True),
    Column("Review"),
    Column("Why held"),
    Column("State", key="status"),
    Column("Submitted", key="submitted", order_by=("submitted_at",), descending_first=True),
]
QUEUE_DEFAULT_SORT = "-submitted"


class ReviewsView(DashboardView):
    nav_section = "feedback"


class QueueView(ReviewsView):
    template_name = "feedback/dashboard/review_queue.html"
    permission = permissions.DASHBOARD_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        data = self.request.GET.copy()
        # The queue opens on what waits for a decision.
        if "status" not in data:
            data["status"] = ReviewStatus.HELD
        form = ReviewFilterForm(data)
        filters = form.filters()
        sort = table_sort(self.request, columns=QUEUE_COLUMNS, default=QUEUE_DEFAULT_SORT)
        rows = selectors.review_list_for_shop(shop=self.shop, ordering=sort.ordering, **filters)
        paginator = Paginator(rows, REVIEWS_PER_PAGE)
        page = paginator.get_page(self.request.GET.get("page"))
        counts = selectors.review_status_counts(shop=self.shop)
        incentive = ReviewIncentive.objects.filter(shop=self.shop).first()
        offered = incentive.get_kind_display() if incentive and incentive.is_offered else "none"
        return super().get_context_data(
            form=form,
            sort=sort,
            current_status=filters.get("status", ""),
            status_tabs=[(value, label, counts[value]) for value, label in ReviewStatus.choices],
            total=sum(counts.values()),
            page_obj=page,
            reviews=page.object_list,
            star_rates=selectors.publish_rate_by_star(shop=self.shop),
            incentive=incentive,
            incentive_label=f"Review incentive: {offered}",
            **kwargs,
        )


class ReviewDetailView(ReviewsView):
    template_name = "feedback/dashboard/review_detail.html"
    permission = permissions.DASHBOARD_VIEW

    def get_breadcrumbs(self, context: Mapping[str, Any]) -> list[Crumb]:
        review = context["review"]
        return [
            Crumb("Reviews", reverse("reviews_dashboard:queue")),
            Crumb(f"{review.product.title}, order {review.order.number}"),
        ]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        review = selectors.review_get_for_shop(shop=self.shop, review_id=self.kwargs["pk"])
        reply = getattr(review, "reply", None) if _has_reply(review) else None
        return super().get_context_data(
            review=review,
            photos=list(review.photos.defer("data").order_by("-is_current", "position", "pk")),
            revisions=list(review.revisions.all()),
            events=selectors.review_events(review=review),
            reply=reply,
            reply_revisions=list(reply.revisions.select_related("author")) if reply else [],
            # Three forms on one page, two with a note: each field's id names its form.
            reply_form=ReplyForm(
                initial={"body": reply.body} if reply else None, auto_id="reply-%s"
            ),
            reject_form=RejectForm(auto_id="reject-%s"),
            publish_form=PublishForm(auto_id="publish-%s"),
            **kwargs,
        )


def _has_reply(review: Review) -> bool:
    try:
        review.reply  # noqa: B018 - loaded with the review; absent raises
    except Review.reply.RelatedObjectDoesNotExist:
        return False
    return True


@dataclass(frozen=True)
class _Action:
    run: Callable[[StaffRequest, Review], object]
    message: str
    permission: str


def _publish(request: StaffRequest, review: Review) -> object:
    form = PublishForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return review_publish(review=review, actor=request.user, note=note)


def _reject(request: StaffRequest, review: Review) -> object:
    form = RejectForm(request.POST)
    if not form.is_valid():
        raise DomainError("Choose the content rule the review breaks.")
    return review_reject(
        review=review,
        actor=request.user,
        rule=form.cleaned_data["rule"],
        note=form.cleaned_data["note"],
    )


def _reply(request: StaffRequest, review: Review) -> object:
    form = ReplyForm(request.POST)
    if not form.is_valid():
        raise DomainError("Write the reply (up to 3000 characters).")
    return review_reply_save(review=review, actor=request.user, body=form.cleaned_data["body"])


def _flag_photo(request: StaffRequest, review: Review) -> object:
    form = PhotoFlagForm(request.POST)
    if not form.is_valid():
        raise DomainError("Choose the photo.")
    photo = selectors.review_photo_get_for_shop(
        shop=request.shop, review_id=review.pk, photo_id=form.cleaned_data["photo"]
    )
    return review_photo_flag(photo=photo, actor=request.user)


_ACTIONS: dict[str, _Action] = {
    "publish": _Action(_publish, "Review published.", permissions.REVIEW_MODERATE),
    "reject": _Action(_reject, "Review rejected.", permissions.REVIEW_MODERATE),
    "reply": _Action(_reply, "Reply saved: it shows under the review.", permissions.REVIEW_REPLY),
    "flag-photo": _Action(
        _flag_photo, "Photo flagged: it is no longer shown.", permissions.REVIEW_MODERATE
    ),
}


class ReviewActionView(StaffPermissionMixin, View):
    http_method_names = ["post"]
    actions: ClassVar[Mapping[str, _Action]] = _ACTIONS

    def required_permission(self) -> str:
        todo = self.actions.get(self.kwargs["action"])
        if todo is None:
            raise Http404("No such action")
        return todo.permission

    def post(self, request: StaffRequest, pk: int, action: str) -> HttpResponse:
        review = selectors.review_get_for_shop(shop=self.shop, review_id=pk)
        todo = _ACTIONS[action]
        try:
            todo.run(request, review)
        except IllegalTransition:
            messages.error(request, f"Not possible while the review is {review.status}.")
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, todo.message)
        return HttpResponseRedirect(reverse("reviews_dashboard:detail", args=[pk]))


class ReviewPhotoView(StaffPermissionMixin, View):
    """A review's photo as staff see it: any of their shop's, flagged or replaced too."""

    http_method_names = ["get", "head"]
    permission = permissions.DASHBOARD_VIEW

    def get(self, request: HttpRequest, pk: int, photo_id: int) -> HttpResponse:
        photo = selectors.review_photo_get_for_shop(shop=self.shop, review_id=pk, photo_id=photo_id)
        inline = photo.content_type in ("image/jpeg", "image/png", "image/webp")
        response = HttpResponse(
            bytes(photo.data),
            content_type=photo.content_type if inline else "application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        patch_cache_control(response, private=True)
        return response


class IncentiveView(ReviewsView):
    """Everyone sees the incentive; managers change it. Offered for any review."""

    template_name = "feedback/dashboard/review_incentive.html"
    permission = {"GET": permissions.DASHBOARD_VIEW, "POST": permissions.REVIEW_INCENTIVE_EDIT}

    def get_breadcrumbs(self, context: Mapping[str, Any]) -> list[Crumb]:
        return [Crumb("Reviews", reverse("reviews_dashboard:queue")), Crumb("Incentive")]

    def _form(self, data: QueryDict | None = None) -> IncentiveForm:
        instance = ReviewIncentive.objects.filter(shop=self.shop).first() or ReviewIncentive(
            shop=self.shop, kind=IncentiveKind.NONE
        )
        return IncentiveForm(data, instance=instance)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self._form()
        if not self.staff_may[permissions.REVIEW_INCENTIVE_EDIT]:
            read_only(form)
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self._form(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                review_incentive_save(
                    shop=self.shop,
                    actor=request.user,
                    kind=data["kind"],
                    discount_text=data.get("discount_text") or "",
                    points=data.get("points") or 0,
                )
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Review incentive saved.")
                return HttpResponseRedirect(reverse("reviews_dashboard:incentive"))
        return self.render_to_response(self.get_context_data(form=form), status=400)
