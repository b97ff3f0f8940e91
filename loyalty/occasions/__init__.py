"""Birthday and first-order anniversary bonuses, on the customer's day in their zone."""
