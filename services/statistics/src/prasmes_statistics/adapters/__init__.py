"""What the statistics service makes with libraries outside its domain: the dashboard's charts (matplotlib)."""
