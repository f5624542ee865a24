// The CKA module. See its issue and README section.
import CompareCore
