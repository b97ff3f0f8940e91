"""The flows: the engagement messages the platform plans on top of the engine, each a kind of
its own (`notifications.flows.messages`): follow-ups timed from delivery (care guide, review
request), replenishment reminders, occasions (birthday, first-order anniversary) and the
apology for a delayed parcel.

They use the engine (`notifications.engine`) like any app does; the engine never imports them.
"""
