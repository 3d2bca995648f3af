"""Gradio apps, the service that runs a worker inside one, and reports (SARIF, gate)."""
