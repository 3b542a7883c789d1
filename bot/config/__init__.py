"""Configuration: typed settings from AUSKUNFT_* variables, the agencies of a deployment, the decision thresholds."""
