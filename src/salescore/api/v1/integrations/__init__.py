"""E-signature providers and their callbacks."""
