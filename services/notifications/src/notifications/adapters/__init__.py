"""Adapters of the notifications service to the world outside: the mail it renders and sends."""
