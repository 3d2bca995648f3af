"""The six perspectives of the analysis worker, one module each."""
