"""Running Auskunft: the process supervisor, the Rasa launcher, the environment children get, progress output."""
