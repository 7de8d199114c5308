"""NorLM: a reproducible recipe for NorBERT and NorELMo, from raw Norwegian text to evaluated models."""

__version__ = "0.1.0"
