"""The one event this app publishes (found by the kernel like every app's `events.py`)."""

from postpurchase import events

GIFT_CARD_ISSUED = "gift_card_issued"

events.declare([GIFT_CARD_ISSUED], app="giftcards")
