"""salescore: the sales-opportunity core of a CRM, as a headless REST/JSON API."""

__version__ = "0.1.0"
