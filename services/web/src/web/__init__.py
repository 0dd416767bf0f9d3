"""The web pages of Prasmes."""
