"""Plugins: the hook specifications, the plugin manager and registry, and the core's own
hook implementations (its jobs and quality rules)."""
