"""Domain rules in plain Python: no framework imports."""
