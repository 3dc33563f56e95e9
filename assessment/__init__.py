"""Customer-centricity maturity assessment: the domain core (no user interface here)."""
