"""E-signature providers and what their callbacks say."""
