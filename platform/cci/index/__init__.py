"""Computing the index: runs over the stored answers, aggregated in the database and handed to
a methodology set, and the reports read from their results."""
