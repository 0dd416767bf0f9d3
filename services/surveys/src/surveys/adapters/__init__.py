"""What the surveys service makes with libraries outside its domain: the results' charts (matplotlib)."""
