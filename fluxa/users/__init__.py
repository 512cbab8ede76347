"""What Fluxa keeps about one journal user, across trades and stats: erasure."""
