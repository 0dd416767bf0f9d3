"""The notifications domain: notices, the mails they are sent as, preferences. Pure Python."""
