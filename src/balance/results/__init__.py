"""Analysis -> files: the typed results document (JSON), per-frame CSV, summary, plots, the annotated video and the
HTML report, written all at once.
"""
