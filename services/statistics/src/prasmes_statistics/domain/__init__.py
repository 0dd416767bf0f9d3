"""The dashboard's figures and their definitions (pure Python)."""
