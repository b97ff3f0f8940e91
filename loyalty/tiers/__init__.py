"""Tiers: who is in which tier (moving up at once, down only at the yearly review), the
history of every move, and the perks a tier applies (`perks.py`)."""
