"""Building blocks of the GameService component: plain functions creating children of it."""
