"""The monitoring dashboard: reads the workers' datasets (never writes) and shows their health."""
