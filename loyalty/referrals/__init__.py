"""Referrals: each member's link, the friend's introductory code, the referrer's points once
the friend's first order is confirmed, and the guards against referring oneself."""
