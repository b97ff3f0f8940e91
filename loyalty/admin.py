"""Ops' admin of loyalty, one module per part of the programme (registered on import)."""

from loyalty.rewards import admin as rewards_admin  # noqa: F401
