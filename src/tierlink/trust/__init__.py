"""trust: zones, PII redaction, provenance and injection defence; not built yet (issue 18)."""
