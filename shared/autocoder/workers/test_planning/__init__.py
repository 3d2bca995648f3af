"""The test planning worker: fifteen perspectives that turn the target's code into test specs."""
