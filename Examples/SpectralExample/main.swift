import Compare

// Placeholder until its module lands.
print("SpectralExample: not written yet")
