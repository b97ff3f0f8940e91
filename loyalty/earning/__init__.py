"""How points are earned and lost: orders (pending, confirmed, voided, taken back for returns),
bonuses for reviews, expiry by lot, and the nightly check that the ledger adds up."""
