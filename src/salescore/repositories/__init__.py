"""Persistence: SQLAlchemy models and one repository per aggregate. All SQL lives here."""
