"""Accounts' adapters: the key it signs the learners' credentials with."""
