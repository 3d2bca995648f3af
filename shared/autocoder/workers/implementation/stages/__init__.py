"""The six stages an item goes through, one per iteration, in this order (seed names verbatim)."""

STAGES: tuple[tuple[str, str], ...] = (
    ("deep_understanding", "Deep Understanding"),
    ("architectural_analysis", "Architectural Analysis"),
    ("approach_evaluation", "Approach Evaluation"),
    ("risk_analysis", "Risk Analysis"),
    ("testing_strategy", "Testing Strategy"),
    ("implementation_plan", "Implementation Plan"),
)
