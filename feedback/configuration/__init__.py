"""The shop's feedback settings as managers edit them in the dashboard: what the survey asks,
when and how often (its delay is the survey flow's, kept by the messaging engine), the review
incentive, and the case policy (targets per priority, business hours, holidays)."""
