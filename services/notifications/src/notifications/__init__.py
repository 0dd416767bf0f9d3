"""The notifications service: notices to users, fed by the platform's events."""
