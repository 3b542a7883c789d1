"""Sentence embeddings: the offline default model and the encoder wrapper."""
