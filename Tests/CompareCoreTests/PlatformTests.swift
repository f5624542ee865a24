import CompareCore
import Testing

@Suite("Platform")
struct PlatformTests {
  @Test("baseName is the last path component, a trailing slash ignored")
  func baseName() {
    #expect(FileSystem.baseName("a/b/model.safetensors") == "model.safetensors")
    #expect(FileSystem.baseName("models/bert/") == "bert")
    #expect(FileSystem.baseName("plain.npy") == "plain.npy")
  }

  @Test("path(_:in:) joins with one slash whether or not the folder ends in one")
  func join() {
    #expect(FileSystem.path("x.npy", in: "dir") == "dir/x.npy")
    #expect(FileSystem.path("x.npy", in: "dir/") == "dir/x.npy")
    // An empty folder is the current one, never the root.
    #expect(FileSystem.path("x.npy", in: "") == "x.npy")
    #expect(FileSystem.path("x.npy", in: "/") == "/x.npy")
    #expect(FileSystem.path("x.npy", in: "/") == "/x.npy")
  }

  @Test("names lists a folder without hidden entries; nil for a folder that cannot be opened")
  func names() {
    let listed = FileSystem.names(in: "/")
    #expect(listed != nil && !(listed ?? []).contains { $0.hasPrefix(".") })
    #expect(FileSystem.names(in: "/no/such/folder") == nil)
  }
}
