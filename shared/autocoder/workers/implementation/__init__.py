"""The implementation worker: six thinking stages from a finding to a verified patch (coming)."""
