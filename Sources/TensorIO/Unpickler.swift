/// A value rebuilt by the restricted unpickler.
///
/// Containers are reference types because pickle fills lists and dictionaries after memoizing
/// them: a memo reference must see the items appended later, as in Python. The unpickler keeps
/// every container it made and empties them all at the end, so a deeply nested or cyclic
/// pickle is released without recursion.
indirect enum PickleValue {
  case none
  case bool(Bool)
  case int(Int)
  case float(Double)
  case string(String)
  case bytes([UInt8])
  case tuple(PickleList)
  case list(PickleList)
  case dict(PickleDict)
  /// A whitelisted callable (`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`, …).
  case global(module: String, name: String)
  /// A storage named by a persistent id: `('storage', type, key, location, numel)`.
  case storage(TorchStorageReference)
  /// A tensor rebuilt from a storage.
  case tensor(TorchTensorReference)
  /// A marker for `MARK`.
  case mark

  var typeName: String {
    switch self {
    case .none: "None"
    case .bool: "bool"
    case .int: "int"
    case .float: "float"
    case .string: "str"
    case .bytes: "bytes"
    case .tuple: "tuple"
    case .list: "list"
    case .dict: "dict"
    case .global(let module, let name): "\(module).\(name)"
    case .storage: "storage"
    case .tensor: "tensor"
    case .mark: "mark"
    }
  }
}

final class PickleList {
  var items: [PickleValue] = []
  init(_ items: [PickleValue] = []) { self.items = items }
}

final class PickleDict {
  var items: [(key: PickleValue, value: PickleValue)] = []
}

/// The storage class of a typed storage and the dtype it holds.
struct TorchStorageReference {
  var key: String
  var dtype: DType
}

/// The arguments of `torch._utils._rebuild_tensor_v2`.
struct TorchTensorReference {
  var storage: TorchStorageReference
  var storageOffset: Int
  var shape: [Int]
  var strides: [Int]
}

/// A pickle reader that rebuilds only data: containers, strings, numbers, booleans, `None`
/// and torch tensors. It executes nothing: every `GLOBAL` is checked against a fixed list of
/// names (torch's tensor and storage rebuilders, `collections.OrderedDict`), and `REDUCE` calls
/// only those, interpreted here. Anything else is refused with an error naming it.
///
/// Supports the opcodes of protocols 0-5 that carry data (no `INST`/`OBJ`/`NEWOBJ` of arbitrary
/// classes, no extension registry). Reference: CPython's `Lib/pickletools.py` opcode table.
struct Unpickler {
  let file: String
  let bytes: UnsafeRawBufferPointer
  var position = 0
  var stack: [PickleValue] = []
  /// Indices into `stack` of the open marks.
  var marks: [Int] = []
  var memo: [Int: PickleValue] = [:]
  /// Every container made, so that `release()` can empty them without recursion.
  var lists: [PickleList] = []
  var dicts: [PickleDict] = []

  /// Nesting of containers is bounded by the input size; stack depth is bounded explicitly.
  static let maximumStack = 1 << 20
  /// Items copied out of existing containers (an `OrderedDict` built from a list of pairs, a
  /// tensor's size and stride tuples). A memoized list can be passed again for a few bytes, so
  /// these copies are budgeted against the pickle's size: 16 per byte, plus 1 M.
  var copied = 0
  var copyBudget: Int { 16 * bytes.count + (1 << 20) }

  init(file: String, bytes: UnsafeRawBufferPointer) {
    self.file = file
    self.bytes = bytes
  }

  /// The storage dtypes of typed storage classes (`torch.FloatStorage` …).
  static let storageTypes: [String: DType] = [
    "HalfStorage": .float16, "BFloat16Storage": .bfloat16, "FloatStorage": .float32,
    "DoubleStorage": .float64, "LongStorage": .int64, "IntStorage": .int32,
    "ShortStorage": .int16, "CharStorage": .int8, "ByteStorage": .uint8, "BoolStorage": .bool,
    // Raw bytes; torch reads them as uint8 unless a tensor says otherwise.
    "UntypedStorage": .uint8,
  ]

  /// torch dtype objects, as some writers pickle them (`torch.float16`).
  static let torchDTypes: [String: DType] = [
    "float16": .float16, "half": .float16, "bfloat16": .bfloat16, "float32": .float32,
    "float": .float32, "float64": .float64, "double": .float64, "int64": .int64, "long": .int64,
    "int32": .int32, "int": .int32, "int16": .int16, "short": .int16, "int8": .int8,
    "uint8": .uint8, "bool": .bool,
  ]

  func fail(_ problem: String) -> ReadError {
    ReadError(file: file, "pickle: \(problem)")
  }

  /// Runs the pickle to `STOP` and returns the value it built.
  mutating func load() throws -> PickleValue {
    while true {
      let opcode = try byte()
      switch opcode {
      case 0x80: _ = try byte()  // PROTO
      case 0x95: _ = try read(8)  // FRAME: framing is transparent here
      case UInt8(ascii: "."):  // STOP
        guard let value = stack.last, stack.count == 1 else { throw fail("malformed stack at STOP") }
        return value
      case UInt8(ascii: "("): marks.append(stack.count); try push(.mark)
      case UInt8(ascii: "}"): try push(.dict(makeDict()))
      case UInt8(ascii: "]"): try push(.list(makeList()))
      case UInt8(ascii: ")"): try push(.tuple(makeList()))
      case UInt8(ascii: "N"): try push(.none)
      case 0x88: try push(.bool(true))
      case 0x89: try push(.bool(false))
      case UInt8(ascii: "t"): try push(.tuple(makeList(popToMark())))
      case 0x85: let a = try pop(); try push(.tuple(makeList([a])))
      case 0x86: let b = try pop(), a = try pop(); try push(.tuple(makeList([a, b])))
      case 0x87: let c = try pop(), b = try pop(), a = try pop(); try push(.tuple(makeList([a, b, c])))
      case UInt8(ascii: "l"): try push(.list(makeList(popToMark())))
      case UInt8(ascii: "d"):
        let items = try popToMark()
        let dict = makeDict()
        try setItems(dict, items)
        try push(.dict(dict))
      case UInt8(ascii: "s"):
        let value = try pop(), key = try pop()
        guard case .dict(let dict) = try top() else { throw fail("SETITEM on a \(try top().typeName)") }
        try setItems(dict, [key, value])
      case UInt8(ascii: "u"):
        let items = try popToMark()
        guard case .dict(let dict) = try top() else { throw fail("SETITEMS on a \(try top().typeName)") }
        try setItems(dict, items)
      case UInt8(ascii: "a"):
        let value = try pop()
        guard case .list(let list) = try top() else { throw fail("APPEND on a \(try top().typeName)") }
        list.items.append(value)
      case UInt8(ascii: "e"):
        let items = try popToMark()
        guard case .list(let list) = try top() else { throw fail("APPENDS on a \(try top().typeName)") }
        list.items += items
      case UInt8(ascii: "0"): _ = try pop()
      case UInt8(ascii: "1"): _ = try popToMark()
      case UInt8(ascii: "2"): try push(try top())
      // Memo.
      case UInt8(ascii: "q"): memo[Int(try byte())] = try top()
      case UInt8(ascii: "r"): memo[try uint32()] = try top()
      case 0x94: memo[memo.count] = try top()
      case UInt8(ascii: "p"):
        guard let index = Int(try line()) else { throw fail("bad PUT index") }
        memo[index] = try top()
      case UInt8(ascii: "h"): try push(try recall(Int(try byte())))
      case UInt8(ascii: "j"): try push(try recall(try uint32()))
      case UInt8(ascii: "g"):
        guard let index = Int(try line()) else { throw fail("bad GET index") }
        try push(try recall(index))
      // Numbers.
      case UInt8(ascii: "K"): try push(.int(Int(try byte())))
      case UInt8(ascii: "M"): try push(.int(Int(try littleEndian(2))))
      case UInt8(ascii: "J"): try push(.int(Int(Int32(truncatingIfNeeded: try littleEndian(4)))))
      case 0x8A: try push(.int(try long(count: Int(try byte()))))
      case 0x8B:
        let n = try uint32()
        try push(.int(try long(count: n)))
      case UInt8(ascii: "I"):
        let text = try line()
        if text == "00" { try push(.bool(false)) } else if text == "01" { try push(.bool(true)) } else {
          guard let n = Int(text) else { throw fail("bad INT '\(text)'") }
          try push(.int(n))
        }
      case UInt8(ascii: "L"):
        let text = try line()
        guard let n = Int(text.hasSuffix("L") ? String(text.dropLast()) : text) else {
          throw fail("integer '\(text)' does not fit in 64 bits")
        }
        try push(.int(n))
      case UInt8(ascii: "G"): try push(.float(Double(bitPattern: try bigEndian64())))
      case UInt8(ascii: "F"):
        let text = try line()
        guard let x = Double(text) else { throw fail("bad FLOAT '\(text)'") }
        try push(.float(x))
      // Strings and bytes.
      case UInt8(ascii: "X"): try push(.string(try utf8(count: try uint32())))
      case 0x8C: try push(.string(try utf8(count: Int(try byte()))))
      case 0x8D: try push(.string(try utf8(count: try uint64())))
      case UInt8(ascii: "U"): try push(.string(try utf8(count: Int(try byte()))))
      case UInt8(ascii: "T"): try push(.string(try utf8(count: try uint32())))
      case UInt8(ascii: "C"): try push(.bytes(Array(try read(Int(try byte())))))
      case UInt8(ascii: "B"): try push(.bytes(Array(try read(try uint32()))))
      case 0x8E: try push(.bytes(Array(try read(try uint64()))))
      case UInt8(ascii: "V"): try push(.string(try line()))
      // Globals and calls.
      case UInt8(ascii: "c"):
        let module = try line(), name = try line()
        try push(try global(module, name))
      case 0x93:
        guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
          throw fail("STACK_GLOBAL needs two strings")
        }
        try push(try global(module, name))
      case UInt8(ascii: "R"):
        guard case .tuple(let arguments) = try pop() else { throw fail("REDUCE without an argument tuple") }
        let callable = try pop()
        try push(try call(callable, arguments.items))
      case UInt8(ascii: "b"):
        // BUILD sets an object's state: the `_metadata` of a state dict's OrderedDict, or a
        // tensor's Python attributes. Neither carries tensor data; the state is dropped.
        _ = try pop()
        let target = try top()
        switch target {
        case .dict, .tensor: break
        default: throw fail("BUILD on a \(target.typeName) is not supported")
        }
      case UInt8(ascii: "Q"): try push(try persistent(try pop()))
      case UInt8(ascii: "P"): try push(try persistent(.string(try line())))
      case 0x81, 0x92:
        throw fail("NEWOBJ (creating an object of an arbitrary class) is not allowed")
      case UInt8(ascii: "i"), UInt8(ascii: "o"):
        throw fail("INST/OBJ (creating an object of an arbitrary class) is not allowed")
      case 0x82, 0x83, 0x84:
        throw fail("the extension registry (EXT opcodes) is not allowed")
      default:
        throw fail("unsupported opcode 0x\(String(opcode, radix: 16)) at byte \(position - 1)")
      }
    }
  }

  // MARK: Containers

  mutating func makeList(_ items: [PickleValue] = []) -> PickleList {
    let list = PickleList(items)
    lists.append(list)
    return list
  }

  mutating func makeDict() -> PickleDict {
    let dict = PickleDict()
    dicts.append(dict)
    return dict
  }

  /// Empties every container made, breaking cycles and deep nesting without recursion.
  mutating func release() {
    for list in lists { list.items = [] }
    for dict in dicts { dict.items = [] }
    lists = []
    dicts = []
    stack = []
    memo = [:]
  }

  // MARK: Stack

  mutating func push(_ value: PickleValue) throws {
    guard stack.count < Unpickler.maximumStack else { throw fail("stack deeper than \(Unpickler.maximumStack)") }
    stack.append(value)
  }

  mutating func pop() throws -> PickleValue {
    guard let value = stack.popLast() else { throw fail("stack underflow at byte \(position - 1)") }
    if case .mark = value { throw fail("unexpected MARK at byte \(position - 1)") }
    if let last = marks.last, last > stack.count { throw fail("stack underflow past a MARK") }
    return value
  }

  func top() throws -> PickleValue {
    guard let value = stack.last else { throw fail("stack underflow at byte \(position - 1)") }
    if case .mark = value { throw fail("unexpected MARK at byte \(position - 1)") }
    return value
  }

  mutating func popToMark() throws -> [PickleValue] {
    guard let mark = marks.popLast(), mark < stack.count else { throw fail("no MARK at byte \(position - 1)") }
    let items = Array(stack[(mark + 1)...])
    stack.removeSubrange(mark...)
    return items
  }

  func recall(_ index: Int) throws -> PickleValue {
    guard let value = memo[index] else { throw fail("memo \(index) is not set") }
    return value
  }

  func setItems(_ dict: PickleDict, _ items: [PickleValue]) throws {
    guard items.count % 2 == 0 else { throw fail("odd number of dictionary items") }
    for i in stride(from: 0, to: items.count, by: 2) {
      dict.items.append((items[i], items[i + 1]))
    }
  }

  // MARK: Reading bytes

  mutating func byte() throws -> UInt8 {
    guard position < bytes.count else { throw fail("ends early (no STOP)") }
    defer { position += 1 }
    return bytes[position]
  }

  mutating func read(_ count: Int) throws -> UnsafeRawBufferPointer {
    guard count >= 0, count <= bytes.count - position else { throw fail("ends early (no STOP)") }
    defer { position += count }
    return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
  }

  mutating func littleEndian(_ count: Int) throws -> UInt64 {
    let raw = try read(count)
    var value: UInt64 = 0
    for i in 0..<count { value |= UInt64(raw[i]) << (8 * UInt64(i)) }
    return value
  }

  mutating func uint32() throws -> Int { Int(try littleEndian(4)) }

  mutating func uint64() throws -> Int {
    let value = try littleEndian(8)
    guard value <= UInt64(Int.max) else { throw fail("length \(value) is too large") }
    return Int(value)
  }

  mutating func bigEndian64() throws -> UInt64 {
    let raw = try read(8)
    return raw.reduce(0) { $0 << 8 | UInt64($1) }
  }

  /// A two's-complement little-endian integer of `count` bytes (LONG1/LONG4), within 64 bits.
  mutating func long(count: Int) throws -> Int {
    let raw = try read(count)
    if count == 0 { return 0 }
    // Bytes beyond the eighth must be pure sign extension.
    let negative = raw[count - 1] & 0x80 != 0
    if count > 8 {
      for i in 8..<count where raw[i] != (negative ? 0xFF : 0) {
        throw fail("integer of \(count) bytes does not fit in 64 bits")
      }
    }
    var value: UInt64 = negative ? ~0 : 0
    for i in 0..<min(count, 8) {
      value &= ~(0xFF << (8 * UInt64(i)))
      value |= UInt64(raw[i]) << (8 * UInt64(i))
    }
    if count > 8, (Int64(bitPattern: value) < 0) != negative {
      throw fail("integer of \(count) bytes does not fit in 64 bits")
    }
    return Int(Int64(bitPattern: value))
  }

  mutating func line() throws -> String {
    var end = position
    while end < bytes.count, bytes[end] != 0x0A { end += 1 }
    guard end < bytes.count else { throw fail("ends early (no newline)") }
    let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<end]), as: UTF8.self)
    position = end + 1
    return text
  }

  mutating func utf8(count: Int) throws -> String {
    String(decoding: try read(count), as: UTF8.self)
  }

  // MARK: The whitelist

  /// The names a torch.save'd state dict or tensor collection may refer to.
  func global(_ module: String, _ name: String) throws -> PickleValue {
    switch (module, name) {
    case ("collections", "OrderedDict"),
         ("torch._utils", "_rebuild_tensor_v2"),
         ("torch._utils", "_rebuild_tensor"),
         ("torch._utils", "_rebuild_parameter"),
         ("torch._utils", "_rebuild_parameter_with_state"):
      return .global(module: module, name: name)
    case ("torch.storage", "UntypedStorage"):
      return .global(module: module, name: name)
    case ("torch", _) where Unpickler.storageTypes[name] != nil || Unpickler.torchDTypes[name] != nil:
      return .global(module: module, name: name)
    default:
      throw fail("refusing global '\(module).\(name)' (only tensors, storages, containers, strings and numbers are loaded; nothing is executed)")
    }
  }

  /// Interprets a call to a whitelisted global.
  mutating func call(_ callable: PickleValue, _ arguments: [PickleValue]) throws -> PickleValue {
    guard case .global(let module, let name) = callable else {
      throw fail("REDUCE calls a \(callable.typeName), not an allowed function")
    }
    switch name {
    case "OrderedDict":
      guard arguments.isEmpty else {
        // OrderedDict([(k, v), …]) from older pickles.
        guard arguments.count == 1, case .list(let pairs) = arguments[0] else {
          throw fail("OrderedDict with unexpected arguments")
        }
        try spend(pairs.items.count)
        let dict = makeDict()
        for pair in pairs.items {
          guard case .tuple(let kv) = pair, kv.items.count == 2 else { throw fail("OrderedDict item is not a pair") }
          dict.items.append((kv.items[0], kv.items[1]))
        }
        return .dict(dict)
      }
      return .dict(makeDict())
    case "_rebuild_tensor_v2", "_rebuild_tensor":
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      guard arguments.count >= 4, case .storage(let storage) = arguments[0],
            case .int(let offset) = arguments[1] else {
        throw fail("\(module).\(name) with unexpected arguments")
      }
      let shape = try integers(arguments[2], what: "size")
      let strides = try integers(arguments[3], what: "stride")
      guard shape.count == strides.count, offset >= 0 else {
        throw fail("tensor with size \(shape), stride \(strides), offset \(offset)")
      }
      return .tensor(TorchTensorReference(storage: storage, storageOffset: offset, shape: shape, strides: strides))
    case "_rebuild_parameter", "_rebuild_parameter_with_state":
      // (data, requires_grad, backward_hooks[, state]): a Parameter is its data.
      guard let data = arguments.first, case .tensor = data else {
        throw fail("\(module).\(name) without a tensor")
      }
      return data
    default:
      throw fail("'\(module).\(name)' cannot be called")
    }
  }

  /// Counts `count` items copied out of an existing container against `copyBudget`.
  mutating func spend(_ count: Int) throws {
    copied += count
    guard copied <= copyBudget else {
      throw fail("copies more than \(copyBudget) items out of shared containers (a memoized list reused over and over?)")
    }
  }

  mutating func integers(_ value: PickleValue, what: String) throws -> [Int] {
    let items: [PickleValue]
    switch value {
    case .tuple(let t): items = t.items
    case .list(let l): items = l.items
    default: throw fail("tensor \(what) is a \(value.typeName), not a tuple")
    }
    try spend(items.count)
    return try items.map {
      guard case .int(let n) = $0 else { throw fail("tensor \(what) holds a \($0.typeName)") }
      return n
    }
  }

  /// A persistent id: `('storage', storage_type, key, location, numel)`.
  func persistent(_ id: PickleValue) throws -> PickleValue {
    guard case .tuple(let tuple) = id, tuple.items.count >= 3, case .string(let kind) = tuple.items[0] else {
      throw fail("persistent id is a \(id.typeName), not a storage tuple")
    }
    let parts = tuple.items
    guard kind == "storage" else { throw fail("persistent id of kind '\(kind)' is not supported") }
    guard case .global(_, let typeName) = parts[1] else {
      throw fail("storage type is a \(parts[1].typeName)")
    }
    guard let dtype = Unpickler.storageTypes[typeName] ?? Unpickler.torchDTypes[typeName] else {
      throw fail("storage type 'torch.\(typeName)' is not supported")
    }
    let key: String
    switch parts[2] {
    case .string(let s): key = s
    case .int(let n): key = String(n)
    default: throw fail("storage key is a \(parts[2].typeName)")
    }
    return .storage(TorchStorageReference(key: key, dtype: dtype))
  }
}
