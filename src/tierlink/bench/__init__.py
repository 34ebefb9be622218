"""bench: datasets and outcome tables, model pairs, routing curves and metrics (PGR, APGR, CPT, AIQ), the case study, reports and plots."""
