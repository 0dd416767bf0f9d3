"""Use cases of the surveys service: one function per command, in one unit of work."""
