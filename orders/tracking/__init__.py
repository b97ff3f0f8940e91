"""The customer's tracking page (`/track/<token>/`) and its lookup (`/track/`)."""
