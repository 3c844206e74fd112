"""`make bench`: federal-scale measurements, printed as ratios measured in one run."""
