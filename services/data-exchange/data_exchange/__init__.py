"""Data-exchange service: the shared base libraries (population, legal person, license index)."""
