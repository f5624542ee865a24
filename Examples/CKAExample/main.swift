import Compare

// Placeholder until its module lands.
print("CKAExample: not written yet")
