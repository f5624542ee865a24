import Compare

// Placeholder until its module lands.
print("KernelExample: not written yet")
