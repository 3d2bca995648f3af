"""The fifteen perspectives of the test planning worker, one module each."""
