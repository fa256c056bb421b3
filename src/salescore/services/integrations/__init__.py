"""E-signature providers: their secrets, adapters and callbacks."""
