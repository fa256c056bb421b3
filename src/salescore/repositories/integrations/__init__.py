"""E-signature providers and the log of their callbacks."""
