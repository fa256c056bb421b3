"""The routes of activities: activities, follow-ups, notifications and the organization's
settings."""
