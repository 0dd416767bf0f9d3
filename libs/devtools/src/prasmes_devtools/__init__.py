"""Developer tools: the one-machine launcher and the demo data (never imported by production code)."""
