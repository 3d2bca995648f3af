"""The analysis worker: six perspectives over the target, findings with evidence."""
