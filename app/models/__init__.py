"""Qt item models over the core stores."""
