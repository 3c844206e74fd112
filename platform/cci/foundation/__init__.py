"""The foundation: configuration, the database and tenant isolation, the models, accounts and
access, background jobs, and the directory of regions and offices.

Every other layer builds on it; it imports none of them (``.importlinter``)."""
