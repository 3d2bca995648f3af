"""The generic machinery every worker runs on: targets, perspectives, caching, the loop."""
