"""A small app that only the tests install: it issues gift cards and tells the customer, to show
that a new kind of message is added in one app alone (its event, its kind, its templates), with
no change to the messaging engine (`tests/test_message_kinds.py`). Like `orders`, it declares
its kind in the kernel's terms and imports nothing of `notifications`."""
