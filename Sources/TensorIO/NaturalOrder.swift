/// Natural ("human") ordering of names: digit runs compare as numbers, so `layer2` comes
/// before `layer10` and `h.2.mlp` before `h.10.mlp`.
public enum NaturalOrder {
  /// `true` when `a` sorts before `b`.
  public static func precedes(_ a: String, _ b: String) -> Bool {
    var i = a.unicodeScalars.makeIterator(), j = b.unicodeScalars.makeIterator()
    var x = i.next(), y = j.next()
    while let cx = x, let cy = y {
      if cx.properties.numericType != nil, cy.properties.numericType != nil,
         cx.isASCII, cy.isASCII {
        var nx = "", ny = ""
        while let c = x, c.isASCII, ("0"..."9").contains(c) { nx.unicodeScalars.append(c); x = i.next() }
        while let c = y, c.isASCII, ("0"..."9").contains(c) { ny.unicodeScalars.append(c); y = j.next() }
        let tx = nx.drop { $0 == "0" }, ty = ny.drop { $0 == "0" }
        if tx.count != ty.count { return tx.count < ty.count }
        if tx != ty { return tx < ty }
        if nx.count != ny.count { return nx.count < ny.count }
        continue
      }
      if cx != cy { return cx.value < cy.value }
      x = i.next()
      y = j.next()
    }
    return x == nil && y != nil
  }

  /// `names` sorted naturally.
  public static func sorted(_ names: [String]) -> [String] { names.sorted(by: precedes) }
}
