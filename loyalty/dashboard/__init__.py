"""The merchant's loyalty pages: numbers, members, a member's ledger, the programme's settings."""
