// Thin wrappers so that generic code in this module names one function on every platform.
@usableFromInline func _log(_ x: Double) -> Double { log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { cos(x) }
