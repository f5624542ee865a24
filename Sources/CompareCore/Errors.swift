/// An error that Compare reports to its user as one line of text.
///
/// The command-line tool prints `Error: \(description)` and exits 1 for any of these.
public protocol CompareError: Error, CustomStringConvertible, Sendable {}

/// Input data that a computation cannot use: mismatched shapes, NaN or ∞, an empty set, …
public struct InputError: CompareError, Equatable {
  /// One line naming the data and what is wrong with it.
  public var message: String

  public init(_ message: String) { self.message = message }

  public var description: String { message }
}

/// A LAPACK routine reported failure through its `info` argument.
///
/// A negative `info` means Compare passed an invalid argument (a bug in Compare); a positive
/// one that the routine did not converge on this input (a property of the data).
public struct LinearAlgebraError: CompareError, Equatable {
  /// The routine without its precision prefix, e.g. `gesdd`.
  public var routine: String
  /// LAPACK's `info`.
  public var info: Int32
  /// What was being computed, e.g. a layer name; empty when unknown.
  public var context: String

  public init(routine: String, info: Int32, context: String = "") {
    self.routine = routine
    self.info = info
    self.context = context
  }

  public var description: String {
    let subject = context.isEmpty ? "" : "\(context): "
    if info < 0 {
      return "\(subject)\(routine) rejected argument \(-info) (a bug in Compare; please report it)"
    }
    return "\(subject)\(routine) did not converge (info \(info))"
  }

  /// The same error, naming what was being computed.
  public func `in`(_ context: String) -> LinearAlgebraError {
    LinearAlgebraError(routine: routine, info: info, context: context)
  }
}
