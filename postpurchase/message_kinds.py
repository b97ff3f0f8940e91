"""Message kinds: everything about one kind of message the platform can send a customer, declared
once by the app that owns its event, and the registry the messaging engine reads.

A kind (an order confirmation, a return's approval, a replenishment reminder, …) says what
starts it, when and on which channels it goes, why (transactional or marketing, which decides
the consent it needs), what its templates may use, how its messages are planned from an event
and previewed in the template editor, and where its default templates are. Each app declares
its kinds in its own `messages.py` and registers them from its `AppConfig.ready()`:

    KINDS = (
        MessageKind(
            name="order_confirmation",
            label=_("Order confirmation"),
            trigger=OrderEventName.ORDER_PLACED,
            channels=("email", "sms"),
            purpose="transactional",
            useful_for=timedelta(days=1),
            variables=(TemplateVariable("order_number", "The order number", "#1001"), …),
            planner=order_confirmation_plans,
            preview_context=order_preview_context,
        ),
    )
    # apps.py, in ready():
    message_kinds.register(messages.KINDS, app="orders")

The kernel holds only the declaration and the registry, in plain types: `orders`, below the
engine, declares its kinds without importing it, and the engine (`notifications`) schedules,
renders, checks and sends whatever is registered without naming any app. A planner receives what
the engine knows when an event arrives (`PlanRequest`) and returns plans made of plain values
(`MessagePlan`); a preview builder receives an order and returns plain values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.utils.functional import Promise

from postpurchase import events
from postpurchase.events import Event

# What a message is for, which decides the consent it needs (orders' `Purpose` values).
TRANSACTIONAL = "transactional"
MARKETING = "marketing"
PURPOSES = (TRANSACTIONAL, MARKETING)

# The default template files of a kind, per channel, in its template folder. WhatsApp's free
# text is the SMS wording.
TEMPLATE_FILES: dict[str, tuple[str, ...]] = {
    "email": ("subject.txt", "body.txt", "body.html"),
    "sms": ("sms.txt",),
    "whatsapp": ("sms.txt",),
}

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class TemplateVariable:
    """A value a kind's templates may use, shown to staff in the template editor."""

    name: str
    description: str
    # Shown in the editor's preview when no real order supplies the value. A callable is
    # asked at each preview (a date relative to today stays to come).
    sample: Any = ""

    def sample_value(self) -> Any:
        return self.sample() if callable(self.sample) else self.sample


@dataclass(frozen=True)
class MessagePlan:
    """One message a kind owes: what it is about, when it is due, and what it says (plain
    values only: the context is stored with the message and rendered later)."""

    about: tuple[str, int]
    due: datetime
    context: dict[str, Any]
    # The object the message is about was made in the caller's transaction, so no message
    # about it can be owed yet: scheduling skips the look-up by key (its INSERT still keeps
    # one row per key). For the hot paths that make an object and tell of it at once.
    about_is_new: bool = False


@dataclass(frozen=True)
class PlanRequest:
    """What the engine knows when an event starts a shop's flow of a kind."""

    kind: str
    event: Event
    # The order the event is about (`orders.models.Order`, with its shop, customer and lines),
    # loaded once by the engine for every flow the event starts. Typed loosely here: the
    # kernel imports no app.
    order: Any
    # The shop's own delay for this kind (the kind's default unless staff changed it).
    delay: timedelta
    now: datetime
    # The event is replayed to backfill messages that are recorded as already sent and never go
    # out (the demo's history, `now` being when the event happened): a planner may leave out
    # what only a message sent today needs, such as today's recommendations.
    is_backfill: bool = False


@dataclass(frozen=True)
class PendingMessage:
    """A message of a kind about to go out, as the kind's `send_check` sees it (plain values:
    the kernel names no app's model)."""

    message_id: int
    shop_id: int
    customer_id: int | None
    order_id: int | None
    channel: str
    about: tuple[str, int]


# The messages a kind owes for one event: none when the object has moved past it.
Planner = Callable[[PlanRequest], list[MessagePlan]]
# A kind's own last word before its messages go out, asked once per chunk of them with every
# such message of the chunk: {message_id: why it must not go out any more} (the engine cancels
# those). A fixed number of queries whatever the number of messages.
SendCheck = Callable[[list[PendingMessage]], Mapping[int, str]]
# The values the template editor previews a kind with, from one of the shop's orders.
PreviewContext = Callable[[Any], Mapping[str, Any]]


@dataclass(frozen=True)
class MessageKind:
    """Everything about one kind of message. Frozen: a declaration, read by the engine."""

    # Names the kind everywhere: its flows, its messages, its templates' folder.
    name: str
    # How staff read it (translatable).
    label: str | Promise
    # The domain event that starts it, when it has a `planner`; else the name of the periodic
    # check of its app that finds who is owed it (not an event).
    trigger: str
    # The channels it goes out on by default, in order of preference ("email", "sms",
    # "whatsapp"); each shop may change them.
    channels: tuple[str, ...]
    purpose: str
    # How long after its trigger it is due by default (see `delay_meaning` where it is not).
    delay: timedelta = timedelta(0)
    # How long after it was due it is still worth sending; None: no limit.
    useful_for: timedelta | None = None
    # Values the event's payload must carry for the kind to apply, e.g. (("to_status",
    # "delivered"),).
    conditions: tuple[tuple[str, str], ...] = ()
    # What its templates may use; a shop's template naming anything else is refused.
    variables: tuple[TemplateVariable, ...] = ()
    # The messages an event owes; None for a kind a periodic task of its app schedules.
    planner: Planner | None = None
    # The template editor's preview values from an order; without it, the samples.
    preview_context: PreviewContext | None = None
    # The help text of the delay in the flow settings, where it is not "after the event".
    delay_meaning: str = ""
    # What each numbered variable of its approved WhatsApp content template carries.
    whatsapp_variables: tuple[str, ...] = ()
    # The folder of its default templates, a template name (found in the apps' template
    # folders); "notifications/<name>" unless set.
    templates: str = ""
    # Checked again just before its messages are sent, after the engine's own checks (consent,
    # a cancelled order, …): what the kind's own rules make moot since it was planned.
    send_check: SendCheck | None = None
    # One message per plan, on the first of the flow's channels the customer can receive,
    # instead of one on each (a survey asks once, wherever it reaches the customer).
    single_channel: bool = False
    # Filled in by `register`: the app that declared it.
    app: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"message kind '{self.name}': a name is lowercase letters and _")
        if self.purpose not in PURPOSES:
            raise ValueError(f"message kind '{self.name}': purpose must be one of {PURPOSES}")
        unknown = set(self.channels) - set(TEMPLATE_FILES)
        if not self.channels or unknown:
            raise ValueError(f"message kind '{self.name}': channels among {list(TEMPLATE_FILES)}")
        if self.delay < timedelta(0):
            raise ValueError(f"message kind '{self.name}': the delay cannot be negative")
        names = [variable.name for variable in self.variables]
        if len(names) != len(set(names)):
            raise ValueError(f"message kind '{self.name}': a variable is declared twice")
        missing = set(self.whatsapp_variables) - set(names)
        if missing:
            raise ValueError(
                f"message kind '{self.name}': WhatsApp variables {sorted(missing)} are not "
                "among its variables"
            )

    @property
    def is_periodic(self) -> bool:
        """Scheduled by a periodic task of its app rather than planned from an event."""
        return self.planner is None

    @property
    def template_folder(self) -> str:
        return self.templates or f"notifications/{self.name}"

    def template_names(self, channel: str) -> list[str]:
        """The default templates a message of this kind on `channel` is rendered from."""
        return [f"{self.template_folder}/{name}" for name in TEMPLATE_FILES[channel]]

    @property
    def variable_names(self) -> list[str]:
        return [variable.name for variable in self.variables]


# Kind name → its declaration, in the order the apps registered them.
_kinds: dict[str, MessageKind] = {}


class KindListener(Protocol):
    """Told of each kind registered (and, for tests and uninstalled apps, unregistered)."""

    def __call__(self, kind: MessageKind, *, registered: bool) -> None: ...


_listeners: list[KindListener] = []


class UnknownKind(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown message kind '{name}': no app registers it")


def register(kinds: Iterable[MessageKind], *, app: str) -> None:
    """Make `kinds` kinds that `app` declares. Call from the app's `AppConfig.ready()`.

    An event-started kind's trigger must be an event some app declares (`postpurchase.events`);
    a periodic kind's must not be one (it would wait for an event nobody plans). Two apps may
    not declare the same kind; the same app registering it again replaces it."""
    for kind in kinds:
        if kind.is_periodic and events.is_declared(kind.trigger):
            raise ValueError(
                f"message kind '{kind.name}' starts on the event '{kind.trigger}' but has no "
                "planner to say what that event owes"
            )
        if not kind.is_periodic and not events.is_declared(kind.trigger):
            raise events.UnknownEvent(kind.trigger)
        owner = _kinds.get(kind.name)
        if owner is not None and owner.app != app:
            raise ValueError(
                f"message kind '{kind.name}' is declared by both {owner.app} and {app}"
            )
        # Frozen: the declaring app is filled in on a copy.
        declared = replace(kind, app=app)
        _kinds[kind.name] = declared
        for listener in list(_listeners):
            listener(declared, registered=True)


def unregister(name: str) -> None:
    """Forget a kind (an app a test installed for a while). Its shops' flows stay, unused."""
    kind = _kinds.pop(name, None)
    if kind is not None:
        for listener in list(_listeners):
            listener(kind, registered=False)


def listen(listener: KindListener) -> None:
    """Call `listener` for every kind registered so far and every later one (the engine
    subscribes to their events this way, whichever app's `ready()` runs first)."""
    if listener not in _listeners:
        _listeners.append(listener)
    for kind in list(_kinds.values()):
        listener(kind, registered=True)


def message_kinds() -> list[MessageKind]:
    """Every registered kind, in the order the apps registered them."""
    return list(_kinds.values())


def message_kind(name: str) -> MessageKind:
    """The kind called `name`; UnknownKind when no app registers it."""
    try:
        return _kinds[name]
    except KeyError:
        raise UnknownKind(name) from None


def message_kind_find(name: str) -> MessageKind | None:
    """The kind called `name`, or None (a message of a kind no longer registered)."""
    return _kinds.get(name)


def kind_label(name: str) -> str:
    """How people read a kind: its declared label (translated); for a kind no app registers
    any more, its name in words ("shipment_out_for_delivery" → "Shipment out for delivery")."""
    found = message_kind_find(name)
    return str(found.label) if found else name.replace("_", " ").capitalize()
