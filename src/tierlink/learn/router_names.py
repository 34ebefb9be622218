"""Names of the trained routers, importable without scikit-learn or torch (for CLI help)."""

PROMPT_ONLY = ("tfidf-logreg", "logreg", "mlp", "knn", "mf", "hybrid-llm", "irt")
POST_HOC = ("posthoc", "posthoc-signals")
ALL = (*PROMPT_ONLY, *POST_HOC)
